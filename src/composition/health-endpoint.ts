import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError } from '../config/env.js';

export interface HealthEndpoint {
  /** host:port it listens on (the port chosen when 0 was asked). */
  address: string;
  /** Answers 503 from now on (a stopping process is not healthy), then closes. */
  stop(): Promise<void>;
}

export interface HealthEndpointOptions {
  /** A probe slower than this counts as failed (default 3 s, under a container health check's usual 5 s). */
  timeoutMs?: number;
  /** What the probe asks, for the 503's sentence: "the database". */
  dependency: string;
}

/**
 * `GET /healthz` for the processes that serve nothing else (the projector, the imaging worker),
 * so a container's health check can ask the process itself: 200 while `probe` succeeds within
 * the timeout, 503 with a sentence while it fails or the process is stopping. Probes run on
 * demand, one at a time: callers arriving meanwhile share the one in flight. Plain HTTP on the
 * address given (inside a container, never published): it tells nothing but "serving" or why not.
 */
export async function startHealthEndpoint(
  listen: { host: string; port: number },
  probe: () => Promise<unknown>,
  options: HealthEndpointOptions,
  logger: Logger,
): Promise<HealthEndpoint> {
  const timeoutMs = options.timeoutMs ?? 3000;
  let stopping = false;
  let inFlight: Promise<boolean> | undefined;
  let lastServing: boolean | undefined;

  const probeOnce = (): Promise<boolean> =>
    (inFlight ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      probe().then(
        () => resolve(true),
        () => resolve(false),
      ).finally(() => clearTimeout(timer));
    }).finally(() => {
      inFlight = undefined;
    }));

  const answer = (response: ServerResponse, status: number, body: Record<string, unknown>, type = 'application/json') => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    response.end(text);
  };
  const problem = (response: ServerResponse, status: number, title: string, detail: string) =>
    answer(response, status, { type: `urn:keeper:problem:${status === 503 ? 'unavailable' : status === 404 ? 'not-found' : 'method-not-allowed'}`, title, status, detail }, 'application/problem+json');

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/healthz') return problem(response, 404, 'Not found', 'only GET /healthz is served here');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return problem(response, 405, 'Method not allowed', 'ask GET /healthz');
    }
    if (stopping) return problem(response, 503, 'Not serving', 'the process is stopping');
    const serving = await probeOnce();
    if (serving !== lastServing) {
      // One line per change of state, not one per probe.
      if (lastServing !== undefined) logger.warn({ serving }, serving ? `${options.dependency} answers again` : `${options.dependency} does not answer`);
      lastServing = serving;
    }
    if (!serving) return problem(response, 503, 'Not serving', `${options.dependency} does not answer within ${timeoutMs} ms`);
    return answer(response, 200, { status: 'serving' });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) problem(response, 503, 'Not serving', 'the health probe failed');
    });
  });
  // A health endpoint is asked now and then and answers at once: idle connections need not linger.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ConfigError(`invalid configuration: --health-listen / KEEPER_HEALTH_LISTEN ${listen.host}:${listen.port} cannot be listened on (${error.code ?? error.message})`)),
    );
    server.listen(listen.port, listen.host, () => {
      server.removeAllListeners('error');
      server.on('error', (error) => logger.error({ reason: error.message }, 'health endpoint failed'));
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    async stop() {
      stopping = true;
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
