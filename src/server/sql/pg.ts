import pg from 'pg';
import type { Logger } from 'pino';
import type { Database, QueryOptions, SqlExecutor, TransactionOptions } from './database.js';
import { OutageLog } from '../../lib/outage-log.js';
import { isTransientDatabaseError } from './transient-errors.js';

export interface PgOptions {
  url: string;
  maxConnections?: number;
  /** A schema of its own (created if missing), so test suites and tools can share one database. */
  schema?: string;
  /**
   * Prepare the statements callers name (QueryOptions.name) once per connection; default true.
   * Turn off behind a pooler that does not keep prepared statements (e.g. PgBouncer in
   * transaction mode before 1.21).
   */
  preparedStatements?: boolean;
  /** Where a lost connection is reported, once per incident. */
  logger?: Logger;
}

/** How long a call waits for a connection before it fails as transient (PostgreSQL restarting, failing over). */
const CONNECT_TIMEOUT_MS = 10_000;

export async function openPostgres(options: PgOptions): Promise<Database> {
  const connectionOptions = options.schema ? `-c search_path=${options.schema}` : undefined;
  if (options.schema) {
    const admin = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // A connection lost between statements is reported by the next statement; unheard, it would end the process.
    admin.on('error', () => {});
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(options.schema)}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 20,
    options: connectionOptions,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  const outageLog = options.logger ? new OutageLog(options.logger, 'the database (PostgreSQL)') : undefined;
  // Only a database reached once can be lost: a first connection that fails is the caller's to say.
  let reached = false;
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => outageLog?.failed(error));
  /** Every call reports how it went, so the outage log knows when an incident starts and ends. */
  async function observed<T>(call: () => Promise<T>): Promise<T> {
    try {
      const value = await call();
      reached = true;
      outageLog?.succeeded();
      return value;
    } catch (error) {
      if (reached && isTransientDatabaseError(error)) outageLog?.failed(error);
      throw error;
    }
  }
  const prepared = options.preparedStatements ?? true;
  const statement = (text: string, params: readonly unknown[] | undefined, queryOptions: QueryOptions | undefined): pg.QueryConfig => ({
    text,
    values: params as unknown[] | undefined,
    ...(prepared && queryOptions?.name ? { name: queryOptions.name } : {}),
  });

  return {
    kind: 'postgres',
    async query<Row>(text: string, params?: readonly unknown[], queryOptions?: QueryOptions) {
      const result = await observed(() => pool.query(statement(text, params, queryOptions)));
      return result.rows as Row[];
    },
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, txOptions?: TransactionOptions) {
      return observed(async () => {
        // A checked-out client has no listener of the pool's: a connection cut between two
        // statements (while fn awaits something else) would otherwise be an unhandled 'error'
        // event, which ends the process. The next statement on it fails, and so does fn.
        let lost: Error | undefined;
        const onError = (error: Error) => {
          lost = error;
        };
        const client = await checkOut(pool, onError);
        try {
          await client.query(beginStatement(txOptions));
          const tx: SqlExecutor = {
            async query<Row>(text: string, params?: readonly unknown[], queryOptions?: QueryOptions) {
              const result = await client.query(statement(text, params, queryOptions));
              return result.rows as Row[];
            },
          };
          const value = await fn(tx);
          await client.query('COMMIT');
          return value;
        } catch (error) {
          if (!lost) await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.off('error', onError);
          // A broken connection leaves the pool instead of going back to it.
          client.release(lost);
        }
      });
    },
    async exec(script: string) {
      await observed(() => pool.query(script));
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * pool.connect() with `onError` listening from the very moment the client is handed over: the
 * chunk that completes a new connection can also carry a termination, parsed in the same tick,
 * before a promise's continuation could attach a listener.
 */
function checkOut(pool: pg.Pool, onError: (error: Error) => void): Promise<pg.PoolClient> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) return reject(error ?? new Error('the pool gave no client'));
      client.on('error', onError);
      resolve(client);
    });
  });
}

function beginStatement(options: TransactionOptions | undefined): string {
  const parts = ['BEGIN'];
  if (options?.repeatableRead) parts.push('ISOLATION LEVEL REPEATABLE READ');
  if (options?.readOnly) parts.push('READ ONLY');
  return parts.join(' ');
}
