import { PGlite } from '@electric-sql/pglite';
import type { Database, SqlExecutor, TransactionOptions } from './database.js';

/** Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory. */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = dataDir ? await PGlite.create(dataDir).catch((error: unknown) => Promise.reject(asNodeFileError(error))) : await PGlite.create();

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

/** Emscripten's errno numbers for the file system faults a data directory can have. */
const EMSCRIPTEN_ERRNO: Record<number, string> = { 2: 'EACCES', 44: 'ENOENT', 51: 'ENOSPC', 54: 'ENOTDIR', 63: 'EPERM', 69: 'EROFS' };

/**
 * PGlite's file system rejects with Emscripten's ErrnoError (a plain object with a number), which
 * prints as "[object Object]": turned into an Error with Node's code, so callers can say what it means.
 */
function asNodeFileError(error: unknown): unknown {
  if (error instanceof Error || typeof error !== 'object' || error === null) return error;
  const errno = (error as { errno?: unknown }).errno;
  if ((error as { name?: unknown }).name !== 'ErrnoError' || typeof errno !== 'number') return error;
  const code = EMSCRIPTEN_ERRNO[errno] ?? 'EIO';
  return Object.assign(new Error(`${code}: the embedded database could not use its files (errno ${errno})`), { code });
}
