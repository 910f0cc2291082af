import pg from 'pg';
import type { Database, QueryOptions, SqlExecutor, TransactionOptions } from './database.js';

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
}

export async function openPostgres(options: PgOptions): Promise<Database> {
  const connectionOptions = options.schema ? `-c search_path=${options.schema}` : undefined;
  if (options.schema) {
    const admin = new pg.Client({ connectionString: options.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(options.schema)}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 20, options: connectionOptions });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const prepared = options.preparedStatements ?? true;
  const statement = (text: string, params: readonly unknown[] | undefined, queryOptions: QueryOptions | undefined): pg.QueryConfig => ({
    text,
    values: params as unknown[] | undefined,
    ...(prepared && queryOptions?.name ? { name: queryOptions.name } : {}),
  });

  return {
    kind: 'postgres',
    async query<Row>(text: string, params?: readonly unknown[], queryOptions?: QueryOptions) {
      const result = await pool.query(statement(text, params, queryOptions));
      return result.rows as Row[];
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, txOptions?: TransactionOptions) {
      const client = await pool.connect();
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
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(script: string) {
      await pool.query(script);
    },
    async close() {
      await pool.end();
    },
  };
}

function beginStatement(options: TransactionOptions | undefined): string {
  const parts = ['BEGIN'];
  if (options?.repeatableRead) parts.push('ISOLATION LEVEL REPEATABLE READ');
  if (options?.readOnly) parts.push('READ ONLY');
  return parts.join(' ');
}
