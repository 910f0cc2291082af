import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ServerConfig } from '../config/server-config.js';
import type { Database } from '../server/sql/database.js';
import { openPglite } from '../server/sql/pglite.js';
import { DataDirInUse, lockDataDir } from '../server/sql/pglite-lock.js';
import { openPostgres } from '../server/sql/pg.js';
import { CliError, EXIT } from '../client/cli/exit-codes.js';

const READ_ONLY = '-c default_transaction_read_only=on';

/**
 * The database URL with `default_transaction_read_only=on` added to the connection's startup
 * options (kept beside any options the URL already has, e.g. a search_path): every transaction
 * on such a connection is read-only unless it explicitly asks otherwise, which the audit never does.
 */
export function readOnlyUrl(url: string): string {
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', options ? `${options} ${READ_ONLY}` : READ_ONLY);
  return parsed.toString();
}

/**
 * Opens the server's database (same config: KEEPER_DATABASE_URL or the embedded data dir) for
 * reading only. It never migrates or creates anything: a database without Keeper's schema is an
 * error. PostgreSQL connections carry default_transaction_read_only=on; the embedded database is
 * opened only when no server holds it (its lock), with the same setting for its one session.
 */
export async function openAuditDatabase(config: Pick<ServerConfig, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  let db: Database;
  let where: string;
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    where = `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
    db = await openPostgres({ url: readOnlyUrl(config.databaseUrl), maxConnections: 2 });
  } else {
    const dir = resolve(config.dataDir, 'pglite');
    where = `the embedded database at ${dir}`;
    try {
      await access(join(dir, 'PG_VERSION'));
    } catch {
      throw new CliError(`there is no embedded database at ${dir}: point --data-dir / KEEPER_DATA_DIR at the server's data directory, or set KEEPER_DATABASE_URL`, EXIT.notFound);
    }
    let release: () => Promise<void>;
    try {
      release = await lockDataDir(dir);
    } catch (error) {
      if (error instanceof DataDirInUse) {
        const pid = /process (\d+)/.exec(error.message)?.[1] ?? '?';
        throw new CliError(
          `the embedded database at ${dir} is in use by process ${pid} (a running keeper up or server?): the audit reads the embedded database only while the server is stopped, so stop it first (or run the server on PostgreSQL with KEEPER_DATABASE_URL, which the audit can read while it runs)`,
          EXIT.failure,
        );
      }
      throw error;
    }
    try {
      const embedded = await openPglite(dir);
      await embedded.query('SET default_transaction_read_only = on');
      db = { ...embedded, close: () => embedded.close().finally(release) };
    } catch (error) {
      await release();
      throw error;
    }
  }
  try {
    await checkReadable(db, where);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return db;
}

async function checkReadable(db: Database, where: string): Promise<void> {
  let rows: Array<{ read_only: string }>;
  try {
    rows = await db.query<{ read_only: string }>(`SELECT current_setting('default_transaction_read_only') AS read_only`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = error instanceof Error ? error.message : String(error);
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
      throw new CliError(`cannot reach ${where}: ${reason}`, EXIT.unavailable);
    }
    throw new CliError(`cannot read ${where}: ${reason}`, EXIT.failure);
  }
  if (rows[0]?.read_only !== 'on') throw new CliError(`could not make the audit's connection to ${where} read-only; refusing to go on`, EXIT.failure);
  try {
    await db.query(`SELECT 1 FROM schema_migrations LIMIT 1`);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') {
      throw new CliError(`${where} has no Keeper schema (was a Keeper server ever started on it?); the audit never creates one`, EXIT.notFound);
    }
    throw error;
  }
}
