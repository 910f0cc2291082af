import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { defaultImageParts, startServer, type ImageParts, type RunningApp } from '../../src/composition/server-app.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { createLogger } from '../../src/logging.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import type { Database } from '../../src/server/sql/database.js';
import type { DatabaseTarget } from './databases.js';
import type { SchedulerOptions } from '../../src/server/grpc/outgoing-scheduler.js';
import type { VersionNotifier } from '../../src/server/watch/port.js';
import { InProcessVersionNotifier } from '../../src/server/watch/in-process-notifier.js';

export interface TestServer {
  app: RunningApp;
  db: Database;
  notifier: VersionNotifier;
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
    /**
     * Another server's database to share (as a replica; real PostgreSQL): this server gets a pool
     * of its own on it, and leaves the database to its owner.
     */
    replicaOf?: TestServer;
    /** Names this server's LISTEN connection in pg_stat_activity (real PostgreSQL). */
    listenName?: string;
    /** The access-token signing key (a replica's default: the one it shares the database with). */
    tokenKey?: string;
    /** Bounds of work in flight (the scheduler's defaults otherwise). */
    scheduling?: SchedulerOptions;
    /** Serve GET /metrics here (e.g. 127.0.0.1:0). */
    metricsListen?: string;
  } = {},
): Promise<TestServer> {
  if (options.replicaOf && !target.reopen) throw new Error(`${target.name} cannot be shared by replicas`);
  const db = options.replicaOf ? await target.reopen!(options.replicaOf.db) : await target.open();
  const logger = options.logger ?? createLogger('silent', 'test');
  const notifier = target.notifier?.(db, { logger, ...(options.listenName ? { applicationName: options.listenName } : {}) }) ?? new InProcessVersionNotifier();
  const blobDir = await mkdtemp(join(tmpdir(), 'keeper-blobs-'));
  const tokenKey = options.tokenKey ?? options.replicaOf?.tokenKey ?? (await TokenIssuer.generateSecretKey());
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
      drainTimeoutMs: 5000,
      ...(options.scheduling ? { scheduling: options.scheduling } : {}),
      ...(options.metricsListen ? { metricsListen: options.metricsListen } : {}),
      images: defaultImageParts(blobDir, options.images),
      notifier,
      ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key } } : {}),
    },
    logger,
  );
  const homes: string[] = [];
  const clients: KeeperClient[] = [];
  return {
    app,
    db,
    notifier,
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
      await notifier.close();
      if (options.replicaOf) await db.close();
      else await target.dispose(db);
      await Promise.all([...homes, blobDir].map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
