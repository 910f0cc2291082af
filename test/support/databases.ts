import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/server/sql/database.js';
import { openPglite } from '../../src/server/sql/pglite.js';
import { openPostgres } from '../../src/server/sql/pg.js';
import { migrate } from '../../src/server/sql/migrations.js';

export interface DatabaseTarget {
  name: string;
  /** A fresh, migrated database of its own (a new schema on real Postgres). */
  open(): Promise<Database>;
  /** Drops what open() created. */
  dispose(db: Database): Promise<void>;
}

const pgUrl = process.env.KEEPER_DATABASE_URL;

export const pgliteTarget: DatabaseTarget = {
  name: 'PGlite',
  async open() {
    const db = await openPglite();
    await migrate(db);
    return db;
  },
  async dispose(db) {
    await db.close();
  },
};

const schemas = new WeakMap<Database, string>();

export const postgresTarget: DatabaseTarget | undefined = pgUrl
  ? {
      name: 'PostgreSQL',
      async open() {
        const schema = `keeper_test_${randomBytes(6).toString('hex')}`;
        const db = await openPostgres({ url: pgUrl, schema, maxConnections: 60 });
        schemas.set(db, schema);
        await migrate(db);
        return db;
      },
      async dispose(db) {
        await db.close();
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schemas.get(db)!)} CASCADE`);
        await client.end();
      },
    }
  : undefined;

/** PGlite always; real PostgreSQL when KEEPER_DATABASE_URL is set (CI always sets it). */
export const databaseTargets: DatabaseTarget[] = postgresTarget ? [pgliteTarget, postgresTarget] : [pgliteTarget];

if (!pgUrl && process.env.CI) {
  throw new Error('CI must set KEEPER_DATABASE_URL so the real-Postgres suites run');
}
