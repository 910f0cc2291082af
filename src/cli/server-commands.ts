import { resolve } from 'node:path';
import { loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { createLogger } from '../logging.js';
import { Projector } from '../projections/projector.js';
import { openDatabase, startServerApp, type RunningApp } from '../server/app.js';
import { TokenIssuer } from '../server/auth/tokens.js';
import { SqlEventStore } from '../server/eventstore/sql.js';
import { progressReporter } from './progress.js';

export type Out = (text: string) => void;

/** Resolves when the process is asked to stop (Ctrl-C or a service manager's TERM). */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // A second Ctrl-C while stopping means "now": exit without waiting for a clean stop.
      if (stopping) process.exit(130);
      stopping = true;
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function runUntilStopped(app: RunningApp): Promise<void> {
  await untilSignal();
  await app.stop();
}

/** `keeper up`: the whole system in one process, on the embedded defaults unless configured. */
export async function upCommand(flags: Record<string, unknown>, out: Out): Promise<void> {
  const config = loadServerConfig(flags, process.env);
  const app = await startServerApp(config, createLogger(config.logLevel, 'keeper'));
  out('Keeper is up.');
  out(`  gRPC server   ${app.grpc.address}${config.tlsCert ? ' (TLS)' : ' (plaintext, loopback only is safe)'}`);
  out(`  event store   ${describeDatabase(config)}`);
  out(`  read model    same database, projector ${config.projector}`);
  out(`  token key     ${config.tokenKey ? 'KEEPER_TOKEN_KEY' : resolve(config.dataDir, 'token.key')}`);
  out('');
  out(`Try: keeper register --server ${app.grpc.address}   (Ctrl-C stops Keeper)`);
  await runUntilStopped(app);
  out('Keeper stopped.');
}

/** `keeper server`: the gRPC server (with the projector inline unless KEEPER_PROJECTOR=external). */
export async function serverCommand(flags: Record<string, unknown>): Promise<void> {
  const config = loadServerConfig(flags, process.env);
  const logger = createLogger(config.logLevel, 'keeper-server');
  const app = await startServerApp(config, logger);
  logger.warn({ address: app.grpc.address, database: config.databaseUrl ? 'postgres' : 'pglite', projector: config.projector }, 'keeper server started');
  await runUntilStopped(app);
}

/** `keeper projector [--rebuild]`: tails the log into the read model, or rebuilds it from zero and exits. */
export async function projectorCommand(flags: Record<string, unknown> & { rebuild?: boolean }, out: Out): Promise<void> {
  const config = loadServerConfig({ ...flags, projector: flags.rebuild ? undefined : 'external' }, process.env);
  const logger = createLogger(config.logLevel, 'keeper-projector');
  const db = await openDatabase(config);
  const store = new SqlEventStore(db);
  try {
    if (flags.rebuild) {
      const progress = progressReporter('rebuilding read model', 'events');
      const projector = new Projector(db, store, { onProgress: ({ applied }) => progress.add(applied) });
      const total = await projector.rebuild();
      progress.done();
      out(`read model rebuilt from ${total} events`);
      return;
    }
    const projector = new Projector(db, store, { onError: (err) => logger.error({ err }, 'projector batch failed; retrying') });
    projector.start();
    logger.warn({ database: describeDatabase(config) }, 'keeper projector started');
    await untilSignal();
    await projector.stop();
  } finally {
    await db.close();
  }
}

export async function keygenCommand(out: Out): Promise<void> {
  out(await TokenIssuer.generateSecretKey());
}

function describeDatabase(config: ServerConfig): string {
  if (!config.databaseUrl) return `PGlite (embedded) in ${resolve(config.dataDir, 'pglite')}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
