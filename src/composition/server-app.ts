import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server-config.js';
import { ConfigError, readSettingFile } from '../config/env.js';
import { Projector } from '../projections/projector.js';
import { captureGrpcLogs } from '../logging.js';
import { readFileIfExists, writeFileAtomic } from '../lib/atomic-file.js';
import { AuthService } from '../server/auth/service.js';
import type { AuthConfigInput } from '../server/auth/config.js';
import { TokenIssuer } from '../server/auth/tokens.js';
import { openEventStore } from '../server/eventstore/open-event-store.js';
import type { EventStore } from '../server/eventstore/port.js';
import { startGrpcServer, type RunningGrpcServer } from '../server/grpc/server.js';
import type { Database } from '../server/sql/database.js';
import { migrate } from '../server/sql/migrations.js';
import { openPglite } from '../server/sql/pglite.js';
import { lockDataDir } from '../server/sql/pglite-lock.js';
import { openPostgres } from '../server/sql/pg.js';
import { databaseStartupError } from '../server/sql/startup-errors.js';
import { ensureWritableDirectory, makeDirectory, UnusableDirectory } from '../lib/writable-dir.js';
import { logUnlessTransient } from '../server/sql/transient-errors.js';
import { VaultService } from '../server/vault/vault-service.js';
import { FileBlobStore } from '../server/blobs/file-blob-store.js';
import { collectBlobs, type CollectOptions } from '../server/blobs/blob-collector.js';
import { ImageService } from '../server/images/image-service.js';
import type { JobQueue } from '../imaging/queue/port.js';
import { openJobQueue, sharpInspector, startImagePipeline, type QueueChoice, type RunningPipeline } from '../server/images/image-pipeline.js';
import type { VersionNotifier } from '../server/watch/port.js';
import { InProcessVersionNotifier } from '../server/watch/in-process-notifier.js';
import { PgVersionNotifier } from '../server/watch/pg-notifier.js';
import { publishAppends } from '../server/watch/publish-appends.js';
import { VersionWatches } from '../server/watch/version-watches.js';
import type { SchedulerOptions } from '../server/grpc/outgoing-scheduler.js';
import { startMetricsEndpoint, type RunningMetricsEndpoint } from '../server/metrics/metrics-endpoint.js';

export interface RunningApp {
  grpc: RunningGrpcServer;
  db: Database;
  /** The Watch calls open in this process. */
  watches: VersionWatches;
  projector: Projector | undefined;
  images: RunningPipeline;
  /** Where GET /metrics answers, when it was asked for. */
  metricsAddress?: string | undefined;
  stop(): Promise<void>;
}

/** Opens the configured database (real PostgreSQL, or PGlite under the data dir) and migrates it. */
export async function openDatabase(config: Pick<ServerConfig, 'databaseUrl' | 'dataDir'>, logger?: Logger): Promise<Database> {
  let db: Database;
  if (config.databaseUrl) {
    try {
      db = await openPostgres({ url: config.databaseUrl, ...(logger ? { logger } : {}) });
    } catch (error) {
      throw databaseStartupError(error, config.databaseUrl);
    }
  } else {
    await ensureWritableDirectory(config.dataDir, DATA_DIR_SETTING);
    const dir = resolve(config.dataDir, 'pglite');
    try {
      await makeDirectory(dir);
    } catch (error) {
      throw new UnusableDirectory(DATA_DIR_SETTING, dir, error);
    }
    const release = await lockDataDir(dir);
    try {
      const embedded = await openPglite(dir);
      db = { ...embedded, close: () => embedded.close().finally(release) };
    } catch (error) {
      await release();
      // A full or read-only disk shows up as a file system error from deep inside the engine.
      if (typeof (error as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code!)) {
        throw new UnusableDirectory(DATA_DIR_SETTING, dir, error);
      }
      throw error;
    }
  }
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw config.databaseUrl ? databaseStartupError(error, config.databaseUrl) : error;
  }
  return db;
}

const DATA_DIR_SETTING = '--data-dir / KEEPER_DATA_DIR';
const BLOB_DIR_SETTING = '--blob-dir / KEEPER_BLOB_DIR';

/** The blob store under the directory the setting names, checked writable first (with the setting's name if not). */
export async function openBlobDirectory(dir: string): Promise<FileBlobStore> {
  await ensureWritableDirectory(dir, BLOB_DIR_SETTING);
  return FileBlobStore.open(dir);
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
  await ensureWritableDirectory(config.dataDir, DATA_DIR_SETTING);
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
  images: ImageParts;
  /** Serve gRPC server reflection (default on). */
  reflection?: boolean;
  /** How often the health service probes the database (default 5 s). */
  healthIntervalMs?: number;
  /** How long a stopping server lets calls in flight finish (default 20 s). */
  drainTimeoutMs?: number;
  /** Bounds of work in flight (concurrent downloads, data requests). */
  scheduling?: SchedulerOptions;
  /** host:port for GET /metrics (Prometheus); none without it. */
  metricsListen?: string;
  /**
   * How this process tells other server processes on the database of its appends, and hears of
   * theirs, for Watch (the caller's to close, after stop). Without one, only this process's own.
   */
  notifier?: VersionNotifier;
  /** The event log (the caller's to close, after stop); the SQL store in `db` without one. */
  store?: EventStore;
}

export interface ImageParts {
  blobDir: string;
  maxBytes: number;
  maxPixels: number;
  /** NATS JetStream for the jobs (the in-process queue without a URL), names and ack wait. */
  queueChoice: QueueChoice;
  /** A queue made by the caller (tests: their own stream names, short ack waits); overrides natsUrl. */
  queue?: JobQueue | undefined;
  /** Make renditions in this process (otherwise `keeper imaging` does, from NATS). */
  inlineWorker: boolean;
  concurrency: number;
  /** How often unreferenced blobs are collected (0: never in this process). */
  gcIntervalMs: number;
  gc: Omit<CollectOptions, 'now'>;
}

/** Wires the services over an open, migrated database and starts listening. */
export async function startServer(db: Database, parts: ServerParts, logger: Logger): Promise<RunningApp> {
  const store = parts.store ?? (await openEventStore({}, db)).store;
  const auth = await AuthService.create(db, {
    accessTokenSecretKey: parts.tokenKey,
    config: parts.auth ?? {},
    // A lost database is told once by its outage log; anything else here is worth a line of its own.
    onBackgroundError: logUnlessTransient(logger, "could not record sessions' last use; will retry", 'warn'),
  });
  const vault = new VaultService(db, store);
  const blobs = await openBlobDirectory(parts.images.blobDir);
  const images = new ImageService(vault, blobs, sharpInspector(parts.images.maxPixels), { maxBytes: parts.images.maxBytes });
  const projector = parts.inlineProjector
    ? new Projector(db, store, {
        pollIntervalMs: parts.projectorPollMs ?? 250,
        onError: logUnlessTransient(logger, 'projector batch failed; retrying'),
      })
    : undefined;
  projector?.start();
  // The job relay tails the log where the projector does; the worker runs here unless it is its own process.
  const pipeline = startImagePipeline(
    db,
    store,
    vault,
    blobs,
    {
      queue: parts.images.queue ?? openJobQueue(parts.images.queueChoice, logger),
      relay: parts.inlineProjector,
      worker: parts.images.inlineWorker,
      concurrency: parts.images.concurrency,
      maxPixels: parts.images.maxPixels,
    },
    logger,
  );
  // An upload in this process wakes the relay at once; other processes' appends are polled for.
  const stopPoking = store.onAppended(() => pipeline.relay?.poke());
  const notifier = parts.notifier ?? new InProcessVersionNotifier();
  const stopPublishing = publishAppends(store, notifier);
  const watches = new VersionWatches(notifier, (userId) => vault.status(userId));
  const gcTimer =
    parts.images.gcIntervalMs > 0
      ? setInterval(() => {
          collectBlobs(db, blobs, parts.images.gc).then(
            (report) => logger.info(report, 'collected unreferenced image blobs'),
            (err: unknown) => logger.error({ err }, 'image blob collection failed'),
          );
        }, parts.images.gcIntervalMs)
      : undefined;
  gcTimer?.unref();
  const stopBackground = async () => {
    clearInterval(gcTimer);
    stopPoking();
    stopPublishing();
    // Ends the watches even when the gRPC server never started (no-op after its stop did).
    watches.drain();
    await pipeline.stop();
    await projector?.stop();
  };
  let grpc: RunningGrpcServer;
  try {
    grpc = await startGrpcServer(
      {
        host: parts.host,
        port: parts.port,
        maxMessageBytes: parts.maxMessageBytes,
        reflection: parts.reflection ?? true,
        healthProbe: () => db.query('SELECT 1'),
        ...(parts.healthIntervalMs !== undefined ? { healthIntervalMs: parts.healthIntervalMs } : {}),
        ...(parts.drainTimeoutMs !== undefined ? { drainTimeoutMs: parts.drainTimeoutMs } : {}),
        ...(parts.scheduling ? { scheduling: parts.scheduling } : {}),
        ...(parts.tls ? { tls: parts.tls } : {}),
      },
      { auth, vault, images, watches },
      logger,
    );
  } catch (error) {
    // Nothing may outlive a server that did not start (the process must be able to exit).
    await stopBackground();
    throw error;
  }
  let metrics: RunningMetricsEndpoint | undefined;
  if (parts.metricsListen) {
    try {
      metrics = await startMetricsEndpoint(parts.metricsListen, grpc.metrics.registry);
    } catch (error) {
      await grpc.stop();
      await stopBackground();
      throw error;
    }
  }
  logger.info({ address: grpc.address, metrics: metrics?.address }, 'keeper server listening');
  return {
    grpc,
    db,
    watches,
    projector,
    images: pipeline,
    metricsAddress: metrics?.address,
    async stop() {
      await grpc.stop();
      await metrics?.stop();
      await stopBackground();
    },
  };
}

/** The composition root of the server process: config in, a running server out. */
export async function startServerApp(config: ServerConfig, logger: Logger): Promise<RunningApp> {
  const tls = readTlsFiles(config);
  // Directories that cannot be used are said at once, before the (slower) database is opened.
  if (!config.tokenKey) await ensureWritableDirectory(config.dataDir, DATA_DIR_SETTING);
  await ensureWritableDirectory(config.blobDir, BLOB_DIR_SETTING);
  captureGrpcLogs(logger);
  const db = await openDatabase(config, logger);
  const notifier = versionNotifierFor(config, db, logger);
  let log: Awaited<ReturnType<typeof openEventStore>> | undefined;
  try {
    log = await openEventStore(config, db);
    const app = await startServer(
      db,
      {
        store: log.store,
        host: config.host,
        port: config.port,
        maxMessageBytes: config.maxMessageBytes,
        tokenKey: await tokenKey(config, logger),
        auth: {
          bcryptCost: config.bcryptCost,
          accessTokenTtlSeconds: config.accessTtl,
          refreshTokenTtlSeconds: config.refreshTtl,
          refreshReuseWindowSeconds: config.refreshReuseWindow,
          sessionCheckMs: config.sessionCheckMs,
        },
        inlineProjector: config.projector === 'inline',
        reflection: config.reflection === 'on',
        images: imagePartsOf(config),
        notifier,
        drainTimeoutMs: config.drainSeconds * 1000,
        scheduling: { maxDownloads: config.maxDownloads, maxDownloadsPerUser: config.maxDownloadsPerUser, maxDataRequests: config.maxDataRequests },
        ...(config.metricsListen ? { metricsListen: config.metricsListen } : {}),
        ...(tls ? { tls } : {}),
      },
      logger,
    );
    return {
      ...app,
      async stop() {
        await app.stop();
        await log?.close();
        await notifier.close();
        await db.close();
      },
    };
  } catch (error) {
    await log?.close();
    await notifier.close();
    await db.close();
    throw error;
  }
}

/**
 * PostgreSQL's NOTIFY and LISTEN when other processes may append to the same database (replicas,
 * `keeper imaging`); in-process for PGlite, which no other process can open.
 */
export function versionNotifierFor(config: Pick<ServerConfig, 'databaseUrl'>, db: Database, logger: Logger): VersionNotifier {
  return config.databaseUrl ? new PgVersionNotifier({ url: config.databaseUrl, db, logger }) : new InProcessVersionNotifier();
}

/**
 * The certificate and key, read and checked as a pair before anything starts, so a bad path or a
 * file that is not PEM stops the server with the setting's name.
 */
function readTlsFiles(config: ServerConfig): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  const cert = readSettingFile(config.tlsCert, '--tls-cert / KEEPER_TLS_CERT');
  const key = readSettingFile(config.tlsKey, '--tls-key / KEEPER_TLS_KEY');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new ConfigError(
      `invalid configuration: --tls-cert / KEEPER_TLS_CERT and --tls-key / KEEPER_TLS_KEY must be a PEM certificate and its private key (${(error as Error).message})`,
    );
  }
  return { cert, key };
}

export function imagePartsOf(config: ServerConfig): ImageParts {
  return {
    blobDir: config.blobDir,
    maxBytes: config.imageMaxBytes,
    maxPixels: config.imageMaxPixels,
    queueChoice: { natsUrl: config.natsUrl, natsPrefix: config.natsPrefix, ackWaitMs: config.imagingAckWait * 1000 },
    inlineWorker: config.imaging === 'inline',
    concurrency: config.imagingConcurrency,
    gcIntervalMs: config.blobGcInterval * 1000,
    gc: { graceMs: config.blobGrace * 1000, deletedRecordRetentionMs: config.deletedImageRetention * 1000 },
  };
}

/** Image settings for a server made in code (tests, benchmarks): the config defaults, collection off. */
export function defaultImageParts(blobDir: string, overrides: Partial<ImageParts> = {}): ImageParts {
  return {
    blobDir,
    queueChoice: {},
    maxBytes: 25_000_000,
    maxPixels: 100_000_000,
    inlineWorker: true,
    concurrency: 2,
    gcIntervalMs: 0,
    gc: { graceMs: 3600_000, deletedRecordRetentionMs: 30 * 24 * 3600_000 },
    ...overrides,
  };
}
