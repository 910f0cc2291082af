import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';

/** An update is a few KB; anything far larger is not from Telegram. */
const BODY_LIMIT = 1024 * 1024;
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

const updateShape = z.looseObject({ update_id: z.number().int().nonnegative() });

export interface WebhookServer {
  /** host:port it listens on (the port chosen when 0 was asked). */
  address: string;
  close(): Promise<void>;
}

function sameSecret(given: string | string[] | undefined, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Where Telegram posts updates when the bot runs with a webhook: only POSTs to the webhook's path
 * carrying the secret Telegram was given with setWebhook are taken, each checked to be an update
 * and handed to `accept`, which returns at once (the chat's work runs on its queue), so Telegram
 * is answered without waiting for the Keeper server.
 */
export async function startWebhook(options: { host: string; port: number; path: string; secret: string; accept: (update: unknown) => void; logger: Logger }): Promise<WebhookServer> {
  const server: Server = createServer((request, response) => {
    const answer = (status: number) => {
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(status === 200 ? 'ok' : 'refused');
    };
    const url = new URL(request.url ?? '/', 'http://webhook');
    if (request.method !== 'POST' || url.pathname !== options.path) return answer(404);
    if (!sameSecret(request.headers[SECRET_HEADER], options.secret)) {
      options.logger.warn('a webhook call without the secret was refused');
      return answer(401);
    }
    readBody(request).then(
      (body) => {
        if (!body) return answer(413);
        let update: unknown;
        try {
          update = updateShape.parse(JSON.parse(body.toString('utf8')));
        } catch {
          return answer(400);
        }
        options.accept(update);
        return answer(200);
      },
      () => answer(400),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
