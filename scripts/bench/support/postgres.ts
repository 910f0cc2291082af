import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../../src/server/sql/database.js';
import { migrate } from '../../../src/server/sql/migrations.js';
import { openPostgres } from '../../../src/server/sql/pg.js';
import type { BenchContext } from '../types.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Null when the server answers a query; otherwise why not. */
export async function postgresUnreachableReason(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface BenchSchema {
  /** The schema's name; every connection opened for it has it as search_path. */
  schema: string;
  /** Keeper's own Database over the schema (the production pool size unless asked otherwise). */
  db: Database;
}

/**
 * A fresh, migrated schema of the benchmark's own, dropped (with everything in it) when the
 * benchmark ends.
 */
export async function openBenchSchema(ctx: BenchContext, label: string, maxConnections?: number): Promise<BenchSchema> {
  const schema = `keeper_bench_${label}_${randomBytes(4).toString('hex')}`;
  const db = await openPostgres({ url: ctx.databaseUrl, schema, ...(maxConnections ? { maxConnections } : {}) });
  let closed = false;
  ctx.defer(async () => {
    if (!closed) await db.close().catch(() => {});
    await dropSchema(ctx.databaseUrl, schema);
  });
  try {
    await migrate(db);
  } catch (error) {
    closed = true;
    await db.close().catch(() => {});
    throw error;
  }
  return {
    schema,
    db: {
      ...db,
      async close() {
        if (closed) return;
        closed = true;
        await db.close();
      },
    },
  };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** `count` plain `pg` connections to the schema, for raw baselines; ended when the benchmark ends. */
export async function rawConnections(ctx: BenchContext, schema: string, count: number): Promise<pg.Client[]> {
  const clients: pg.Client[] = [];
  ctx.defer(() => Promise.all(clients.map((client) => client.end().catch(() => {}))).then(() => {}));
  for (let i = 0; i < count; i++) {
    const client = new pg.Client({ connectionString: ctx.databaseUrl, options: `-c search_path=${schema}` });
    client.on('error', () => {});
    clients.push(client);
  }
  await Promise.all(clients.map((client) => client.connect()));
  return clients;
}
