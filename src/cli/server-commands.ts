import { resolve } from 'node:path';
import { loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { createLogger } from '../logging.js';
import { Projector } from '../projections/projector.js';
import { imagePartsOf, openBlobDirectory, openDatabase, startServerApp, versionNotifierFor, type RunningApp } from '../composition/server-app.js';
import { publishAppends } from '../server/watch/publish-appends.js';
import { collectBlobs } from '../server/blobs/blob-collector.js';
import { openJobQueue, startImagePipeline } from '../server/images/image-pipeline.js';
import { VaultService } from '../server/vault/vault-service.js';
import { TokenIssuer } from '../server/auth/tokens.js';
import { openEventStore } from '../server/eventstore/open-event-store.js';
import { progressReporter } from '../lib/progress.js';
import { untilSignal } from './until-signal.js';
import { loadAgentConfig } from '../config/agent-config.js';
import { startAgent, type RunningAgent } from '../client/agent/start-agent.js';
import { describeDatabaseUrl } from '../server/sql/startup-errors.js';
import { logUnlessTransient } from '../server/sql/transient-errors.js';
import { startHealthEndpoint, type HealthEndpoint } from '../composition/health-endpoint.js';
import { splitHostPort } from '../config/env.js';

export type Out = (text: string) => void;

/** GET /healthz while the database answers, when --health-listen / KEEPER_HEALTH_LISTEN is set. */
function healthEndpointFor(config: ServerConfig, db: { query(sql: string): Promise<unknown> }, logger: ReturnType<typeof createLogger>): Promise<HealthEndpoint | undefined> {
  if (!config.healthListen) return Promise.resolve(undefined);
  return startHealthEndpoint(splitHostPort(config.healthListen), () => db.query('SELECT 1'), { dependency: 'the database' }, logger);
}


async function runUntilStopped(app: RunningApp): Promise<void> {
  await untilSignal();
  await app.stop();
}

/** `keeper up`: the whole system in one process, on the embedded defaults unless configured. */
export async function upCommand(flags: Record<string, unknown>, out: Out): Promise<void> {
  const config = loadServerConfig(flags, process.env);
  const logger = createLogger(config.logLevel, 'keeper');
  const app = await startServerApp(config, logger);
  // The agent talks to this server over gRPC like any client; its settings are its own (KEEPER_AGENT_*).
  const agentConfig = loadAgentConfig({ server: app.grpc.address, logLevel: config.logLevel }, process.env);
  let agent: RunningAgent;
  try {
    agent = await startAgent(agentConfig, logger.child({ part: 'agent' }));
  } catch (error) {
    await app.stop();
    throw error;
  }
  out('Keeper is up.');
  out(`  gRPC server   ${app.grpc.address}${config.tlsCert ? ' (TLS)' : ' (plaintext, loopback only is safe)'}`);
  out(`  event store   ${describeDatabase(config)}`);
  out(`  read model    same database, projector ${config.projector}`);
  out(`  images        ${resolve(config.blobDir)}, jobs ${config.natsUrl ? 'on NATS JetStream' : 'in-process'}, worker ${config.imaging}`);
  out(`  token key     ${config.tokenKey ? 'KEEPER_TOKEN_KEY' : resolve(config.dataDir, 'token.key')}`);
  out(`  HTTP agent    ${agentConfig.tlsCert ? 'https' : 'http'}://${agent.address} (API at /v1/openapi.json)`);
  out('');
  out(`Try: keeper register --server ${app.grpc.address}   (Ctrl-C stops Keeper)`);
  await untilSignal();
  await agent.stop();
  await app.stop();
  out('Keeper stopped.');
}

/** `keeper server`: the gRPC server (with the projector inline unless KEEPER_PROJECTOR=external). */
export async function serverCommand(flags: Record<string, unknown>): Promise<void> {
  const config = loadServerConfig(flags, process.env);
  const logger = createLogger(config.logLevel, 'keeper-server');
  const app = await startServerApp(config, logger);
  logger.warn({ address: app.grpc.address, metrics: app.metricsAddress, database: config.databaseUrl ? 'postgres' : 'pglite', projector: config.projector }, 'keeper server started');
  await runUntilStopped(app);
}

/** `keeper projector [--rebuild]`: tails the log into the read model, or rebuilds it from zero and exits. */
export async function projectorCommand(flags: Record<string, unknown> & { rebuild?: boolean }, out: Out): Promise<void> {
  const config = loadServerConfig({ ...flags, projector: flags.rebuild ? undefined : 'external' }, process.env);
  const logger = createLogger(config.logLevel, 'keeper-projector');
  // Settings that are wrong are said before the (slower) database is opened.
  const blobs = config.natsUrl && !flags.rebuild ? await openBlobDirectory(config.blobDir) : undefined;
  const db = await openDatabase(config, logger);
  const log = await openEventStore(config, db).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const store = log.store;
  let health: HealthEndpoint | undefined;
  try {
    if (flags.rebuild) {
      const progress = progressReporter('rebuilding read model', 'events');
      const projector = new Projector(db, store, { onProgress: ({ applied }) => progress.add(applied) });
      const total = await projector.rebuild();
      progress.done();
      out(`read model rebuilt from ${total} events`);
      return;
    }
    const projector = new Projector(db, store, { onError: logUnlessTransient(logger, 'projector batch failed; retrying') });
    health = await healthEndpointFor(config, db, logger);
    projector.start();
    // The image job relay tails the log beside the projector; across processes only NATS carries jobs.
    const pipeline = blobs
      ? startImagePipeline(
          db,
          store,
          new VaultService(db, store),
          blobs,
          { queue: openJobQueue(imagePartsOf(config).queueChoice, logger), relay: true, worker: false, concurrency: 1, maxPixels: config.imageMaxPixels },
          logger,
        )
      : undefined;
    if (!pipeline) logger.warn('no KEEPER_NATS_URL: uploaded images are not queued for resizing by this projector');
    logger.warn({ database: describeDatabase(config), imageJobs: pipeline ? 'nats' : 'off', health: health?.address ?? 'off' }, 'keeper projector started');
    await untilSignal();
    await health?.stop();
    health = undefined;
    await pipeline?.stop();
    await projector.stop();
  } finally {
    await health?.stop();
    await log.close();
    await db.close();
  }
}

/** `keeper imaging`: the resize worker, taking jobs from NATS JetStream (it shares the blob directory). */
export async function imagingCommand(flags: Record<string, unknown>): Promise<void> {
  const config = loadServerConfig({ ...flags, imaging: 'external' }, process.env);
  const logger = createLogger(config.logLevel, 'keeper-imaging');
  const images = imagePartsOf(config);
  const blobs = await openBlobDirectory(images.blobDir);
  const db = await openDatabase(config, logger);
  const log = await openEventStore(config, db).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const store = log.store;
  // Renditions made here are news to the servers' watchers.
  const notifier = versionNotifierFor(config, db, logger);
  const stopPublishing = publishAppends(store, notifier);
  let health: HealthEndpoint | undefined;
  try {
    health = await healthEndpointFor(config, db, logger);
    const pipeline = startImagePipeline(
      db,
      store,
      new VaultService(db, store),
      blobs,
      { queue: openJobQueue(images.queueChoice, logger), relay: false, worker: true, concurrency: images.concurrency, maxPixels: images.maxPixels },
      logger,
    );
    logger.warn({ blobs: images.blobDir, concurrency: images.concurrency, health: health?.address ?? 'off' }, 'keeper imaging started');
    await untilSignal();
    await health?.stop();
    health = undefined;
    await pipeline.stop();
  } finally {
    await health?.stop();
    stopPublishing();
    await notifier.close();
    await log.close();
    await db.close();
  }
}

/** `keeper blobs-gc`: removes image bytes that no image refers to any more, and says how much. */
export async function blobsGcCommand(flags: Record<string, unknown>, out: Out): Promise<void> {
  const config = loadServerConfig(flags, process.env);
  const images = imagePartsOf(config);
  const blobs = await openBlobDirectory(images.blobDir);
  const db = await openDatabase(config);
  try {
    const report = await collectBlobs(db, blobs, images.gc);
    out(
      `${report.blobs} blob(s), ${report.referenced} referenced: removed ${report.removed} (${report.removedBytes} bytes) and ${report.removedTemporary} unfinished upload(s)`,
    );
  } finally {
    await db.close();
  }
}

export async function keygenCommand(out: Out): Promise<void> {
  out(await TokenIssuer.generateSecretKey());
}

function describeDatabase(config: ServerConfig): string {
  if (!config.databaseUrl) return `PGlite (embedded) in ${resolve(config.dataDir, 'pglite')}`;
  return describeDatabaseUrl(config.databaseUrl);
}
