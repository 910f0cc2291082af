import { PGlite } from '@electric-sql/pglite';
import type { Database, SqlExecutor, TransactionOptions } from './database.js';

/** Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory. */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();

  return {
    kind: 'pglite',
    async query<Row>(text: string, params?: readonly unknown[]) {
      const result = await db.query<Row>(text, params as unknown[] | undefined);
      return result.rows;
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions) {
      return db.transaction(async (tx) => {
        // PGlite has a single connection, so every transaction already sees one snapshot.
        if (options?.readOnly) await tx.query('SET TRANSACTION READ ONLY');
        return fn({
          async query<Row>(text: string, params?: readonly unknown[]) {
            const result = await tx.query<Row>(text, params as unknown[] | undefined);
            return result.rows;
          },
        });
      });
    },
    async exec(script: string) {
      await db.exec(script);
    },
    async close() {
      await db.close();
    },
  };
}
