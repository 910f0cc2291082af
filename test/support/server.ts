import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { defaultImageParts, startServer, type ImageParts, type RunningApp } from '../../src/server/app.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { createLogger } from '../../src/logging.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import type { Database } from '../../src/server/sql/database.js';
import type { DatabaseTarget } from './databases.js';

export interface TestServer {
  app: RunningApp;
  db: Database;
  address: string;
  tokenKey: string;
  blobDir: string;
  /** A client with its own session directory. */
  client(): Promise<KeeperClient>;
  /** Resolves when the read model has applied everything appended so far. */
  projected(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(
  target: DatabaseTarget,
  options: {
    accessTtlSeconds?: number;
    maxMessageBytes?: number;
    images?: Partial<ImageParts>;
    inlineProjector?: boolean;
    /** Serve TLS with this certificate; `client()` then trusts `tls.ca`. */
    tls?: { cert: Buffer; key: Buffer; ca: string };
    /** Where the server logs (silent by default). */
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const db = await target.open();
  const blobDir = await mkdtemp(join(tmpdir(), 'keeper-blobs-'));
  const tokenKey = await TokenIssuer.generateSecretKey();
  const app = await startServer(
    db,
    {
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: options.maxMessageBytes ?? 4 * 1024 * 1024,
      tokenKey,
      auth: { bcryptCost: 10, accessTokenTtlSeconds: options.accessTtlSeconds ?? 900 },
      inlineProjector: options.inlineProjector ?? true,
      projectorPollMs: 20,
      images: defaultImageParts(blobDir, options.images),
      ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
    },
    options.logger ?? createLogger('silent', 'test'),
  );
  const homes: string[] = [];
  const clients: KeeperClient[] = [];
  return {
    app,
    db,
    address: app.grpc.address,
    tokenKey,
    blobDir: options.images?.blobDir ?? blobDir,
    async client() {
      const home = await mkdtemp(join(tmpdir(), 'keeper-client-'));
      homes.push(home);
      const channel = options.tls ? { server: app.grpc.address, tls: true, tlsCa: options.tls.ca } : { server: app.grpc.address, tls: false };
      const client = new KeeperClient(channel, new FileTokenStore(home, app.grpc.address), 10_000);
      clients.push(client);
      return client;
    },
    projected: () => (app.projector ? app.projector.idle() : Promise.reject(new Error('this test server leaves the read model to another process'))),
    async close() {
      for (const client of clients) client.close();
      await app.stop();
      await target.dispose(db);
      await Promise.all([...homes, blobDir].map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
