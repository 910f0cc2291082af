import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import { Projector } from '../projections/projector.js';
import { readFileIfExists, writeFileAtomic } from '../lib/atomic-file.js';
import { AuthService } from './auth/service.js';
import type { AuthConfigInput } from './auth/config.js';
import { TokenIssuer } from './auth/tokens.js';
import { SqlEventStore } from './eventstore/sql.js';
import { startGrpcServer, type RunningGrpcServer } from './grpc/server.js';
import type { Database } from './sql/database.js';
import { migrate } from './sql/migrations.js';
import { openPglite } from './sql/pglite.js';
import { lockDataDir } from './sql/pglite-lock.js';
import { openPostgres } from './sql/pg.js';
import { VaultService } from './vault/vault-service.js';

export interface RunningApp {
  grpc: RunningGrpcServer;
  db: Database;
  projector: Projector | undefined;
  stop(): Promise<void>;
}

/** Opens the configured database (real PostgreSQL, or PGlite under the data dir) and migrates it. */
export async function openDatabase(config: Pick<ServerConfig, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  let db: Database;
  if (config.databaseUrl) {
    db = await openPostgres({ url: config.databaseUrl });
  } else {
    const dir = resolve(config.dataDir, 'pglite');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const release = await lockDataDir(dir);
    try {
      const embedded = await openPglite(dir);
      db = { ...embedded, close: () => embedded.close().finally(release) };
    } catch (error) {
      await release();
      throw error;
    }
  }
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/**
 * The access-token signing key: from KEEPER_TOKEN_KEY, or kept in the data dir (created on first
 * start) so that sessions survive a restart of the embedded system.
 */
async function tokenKey(config: ServerConfig, logger: Logger): Promise<string> {
  if (config.tokenKey) return config.tokenKey;
  const path = join(config.dataDir, 'token.key');
  const existing = await readFileIfExists(path);
  if (existing) return existing.trim();
  const key = await TokenIssuer.generateSecretKey();
  await writeFileAtomic(path, key, 0o600);
  logger.info({ path }, 'created a new access-token key');
  return key;
}

export interface ServerParts {
  host: string;
  port: number;
  maxMessageBytes: number;
  tokenKey: string;
  auth?: AuthConfigInput;
  inlineProjector: boolean;
  projectorPollMs?: number;
  tls?: { cert: Buffer; key: Buffer };
}

/** Wires the services over an open, migrated database and starts listening. */
export async function startServer(db: Database, parts: ServerParts, logger: Logger): Promise<RunningApp> {
  const store = new SqlEventStore(db);
  const auth = await AuthService.create(db, { accessTokenSecretKey: parts.tokenKey, config: parts.auth ?? {} });
  const vault = new VaultService(db, store);
  const projector = parts.inlineProjector
    ? new Projector(db, store, {
        pollIntervalMs: parts.projectorPollMs ?? 250,
        onError: (err) => logger.error({ err }, 'projector batch failed; retrying'),
      })
    : undefined;
  projector?.start();
  const grpc = await startGrpcServer(
    { host: parts.host, port: parts.port, maxMessageBytes: parts.maxMessageBytes, ...(parts.tls ? { tls: parts.tls } : {}) },
    { auth, vault },
    logger,
  );
  logger.info({ address: grpc.address }, 'keeper server listening');
  return {
    grpc,
    db,
    projector,
    async stop() {
      await grpc.stop();
      await projector?.stop();
    },
  };
}

/** The composition root of the server process: config in, a running server out. */
export async function startServerApp(config: ServerConfig, logger: Logger): Promise<RunningApp> {
  const db = await openDatabase(config);
  try {
    const tls = config.tlsCert && config.tlsKey ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) } : undefined;
    const app = await startServer(
      db,
      {
        host: config.host,
        port: config.port,
        maxMessageBytes: config.maxMessageBytes,
        tokenKey: await tokenKey(config, logger),
        auth: { bcryptCost: config.bcryptCost, accessTokenTtlSeconds: config.accessTtl, refreshTokenTtlSeconds: config.refreshTtl },
        inlineProjector: config.projector === 'inline',
        ...(tls ? { tls } : {}),
      },
      logger,
    );
    return {
      ...app,
      async stop() {
        await app.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
