import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openAuditDatabase } from '../../src/cli/audit-database.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import type { Projector } from '../../src/projections/projector.js';
import type { Database } from '../../src/server/sql/database.js';
import { migrate } from '../../src/server/sql/migrations.js';
import { openPglite } from '../../src/server/sql/pglite.js';
import { openPostgres } from '../../src/server/sql/pg.js';

/**
 * A database for the audit tests: `db` is what the server writes with, `audit` what the audit
 * reads with. On real PostgreSQL they are separate connections, the audit's opened exactly as
 * `keeper audit` opens it (default_transaction_read_only=on), on a schema of the test's own. The
 * in-memory PGlite has one connection, so there both are the same and only the audit's READ ONLY
 * transactions keep it from writing.
 */
export interface AuditDatabases {
  db: Database;
  audit: Database;
  close(): Promise<void>;
}

export interface AuditTarget {
  name: string;
  open(): Promise<AuditDatabases>;
}

const pgUrl = process.env.KEEPER_DATABASE_URL;

/** The database URL with a search_path of its own, as an operator would point KEEPER_DATABASE_URL at a schema. */
export function urlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

export const auditTargets: AuditTarget[] = [
  {
    name: 'PGlite',
    async open() {
      const db = await openPglite();
      await migrate(db);
      return { db, audit: db, close: () => db.close() };
    },
  },
  ...(pgUrl
    ? [
        {
          name: 'PostgreSQL',
          async open(): Promise<AuditDatabases> {
            const schema = `keeper_audit_${randomBytes(6).toString('hex')}`;
            const db = await openPostgres({ url: pgUrl, schema });
            await migrate(db);
            const audit = await openAuditDatabase({ databaseUrl: urlWithSchema(pgUrl, schema), dataDir: '.keeper' });
            return {
              db,
              audit,
              async close() {
                await audit.close();
                await db.close();
                const admin = new pg.Client({ connectionString: pgUrl });
                await admin.connect();
                await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
                await admin.end();
              },
            };
          },
        },
      ]
    : []),
];

/**
 * Catches the projector up until the read model holds every user's stream version. On a shared
 * PostgreSQL another transaction in the cluster can hold the gap-free log read back for a moment.
 */
export async function settle(db: Database, projector: Projector, userIds: string[], deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    await projector.catchUp();
    const behind = await db.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM streams s LEFT JOIN rm_user_versions v ON s.stream_id = 'user-' || v.user_id::text
       WHERE s.stream_id = ANY($1::text[]) AND coalesce(v.version, 0) < s.version`,
      [userIds.map(streamIdForUser)],
    );
    if (behind[0]!.n === 0) return;
    if (Date.now() > until) throw new Error('the projector did not catch up in time');
    await sleep(50);
  }
}

/** Collects what a command prints. */
export function collector(): { lines: string[]; out: (line: string) => void; text(): string } {
  const lines: string[] = [];
  return { lines, out: (line) => lines.push(line), text: () => lines.join('\n') };
}
