import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../../src/server/sql/database.js';
import { openPglite } from '../../src/server/sql/pglite.js';
import { openPostgres } from '../../src/server/sql/pg.js';
import { migrate } from '../../src/server/sql/migrations.js';
import type { VersionNotifier } from '../../src/server/watch/port.js';
import { InProcessVersionNotifier } from '../../src/server/watch/in-process-notifier.js';
import { PgVersionNotifier } from '../../src/server/watch/pg-notifier.js';

export interface DatabaseTarget {
  name: string;
  /** A fresh, migrated database of its own (a new schema on real Postgres). */
  open(): Promise<Database>;
  /** Drops what open() created. */
  dispose(db: Database): Promise<void>;
  /**
   * The notifier a server over `db` uses for Watch, as the composition root picks it: LISTEN and
   * NOTIFY on real PostgreSQL (its connection named `applicationName`), in-process on PGlite and
   * when left out.
   */
  notifier?(db: Database, options?: { applicationName?: string; logger?: Logger }): VersionNotifier;
  /** Another pool on the same database and schema, as a second server process has (real PostgreSQL only). */
  reopen?(db: Database): Promise<Database>;
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
  notifier() {
    return new InProcessVersionNotifier();
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
      notifier(db, options = {}) {
        return new PgVersionNotifier({ url: pgUrl, db, applicationName: options.applicationName ?? 'keeper-test-listen', ...(options.logger ? { logger: options.logger } : {}) });
      },
      async reopen(db) {
        const schema = schemas.get(db);
        if (!schema) throw new Error('reopen takes a database this target opened');
        return openPostgres({ url: pgUrl, schema, maxConnections: 20 });
      },
    }
  : undefined;

/** PGlite always; real PostgreSQL when KEEPER_DATABASE_URL is set (CI always sets it). */
export const databaseTargets: DatabaseTarget[] = postgresTarget ? [pgliteTarget, postgresTarget] : [pgliteTarget];

if (!pgUrl && process.env.CI) {
  throw new Error('CI must set KEEPER_DATABASE_URL so the real-Postgres suites run');
}
