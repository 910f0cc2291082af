import type { Database } from './database.js';

/**
 * The whole schema: event store, auth and read model. Each migration is a list of single
 * statements (PGlite runs one statement per query) applied once, in order, under a lock so
 * several replicas starting together do not race.
 */
const MIGRATIONS: string[][] = [
  [
    `CREATE TABLE streams (
      stream_id text PRIMARY KEY,
      version integer NOT NULL,
      updated_at timestamptz NOT NULL
    )`,
    // transaction_id orders the global log: a reader only goes past transactions older than every
    // one still in flight, so an event whose transaction commits late is never skipped.
    `CREATE TABLE events (
      global_position bigserial PRIMARY KEY,
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL,
      version integer NOT NULL,
      event_id uuid NOT NULL UNIQUE,
      type text NOT NULL,
      data jsonb NOT NULL,
      metadata jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (stream_id, version)
    )`,
    `CREATE INDEX events_log_order ON events (transaction_id, global_position)`,
    `CREATE TABLE users (
      user_id uuid PRIMARY KEY,
      login text NOT NULL,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE UNIQUE INDEX users_login ON users (lower(login))`,
    `CREATE TABLE refresh_tokens (
      token_hash text PRIMARY KEY,
      family_id uuid NOT NULL,
      user_id uuid NOT NULL REFERENCES users (user_id),
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz
    )`,
    `CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`,
    `CREATE TABLE rm_records (
      user_id uuid NOT NULL,
      record_id uuid NOT NULL,
      kind text NOT NULL,
      name text NOT NULL,
      fields jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      version integer NOT NULL,
      deleted_at timestamptz,
      PRIMARY KEY (user_id, record_id)
    )`,
    `CREATE TABLE rm_user_versions (
      user_id uuid PRIMARY KEY,
      version integer NOT NULL,
      last_modified_at timestamptz NOT NULL
    )`,
    `CREATE TABLE rm_checkpoints (
      projection text PRIMARY KEY,
      commit_position xid8 NOT NULL,
      prepare_position bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  ],
  [
    `ALTER TABLE rm_records ADD COLUMN conflict_of uuid`,
    `ALTER TABLE rm_user_versions ADD COLUMN key_id uuid`,
    `ALTER TABLE rm_user_versions ADD COLUMN key_envelope text`,
  ],
  [
    `CREATE TABLE rm_images (
      user_id uuid NOT NULL,
      image_id uuid NOT NULL,
      record_id uuid NOT NULL,
      file_name text NOT NULL,
      original jsonb NOT NULL,
      encrypted boolean NOT NULL,
      status text NOT NULL,
      cover jsonb,
      compact jsonb,
      failure text,
      created_at timestamptz NOT NULL,
      version integer NOT NULL,
      detached_at timestamptz,
      PRIMARY KEY (user_id, image_id)
    )`,
    `CREATE INDEX rm_images_record ON rm_images (user_id, record_id)`,
  ],
  [
    // An event id (the client's mutation id) is unique within its stream only: a store-wide
    // unique id told one user that another had used a mutation id.
    `ALTER TABLE events ADD CONSTRAINT events_stream_event_id UNIQUE (stream_id, event_id)`,
    `ALTER TABLE events DROP CONSTRAINT events_event_id_key`,
  ],
  [
    // A session is a refresh-token family (session_id = family_id), with what the user sees of it
    // and, once ended, why: access tokens name their session and are refused once it has ended.
    `CREATE TABLE auth_sessions (
      session_id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (user_id),
      client_id text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL,
      last_used_at timestamptz NOT NULL,
      ended_at timestamptz,
      end_reason text
    )`,
    `CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE ended_at IS NULL`,
    `CREATE INDEX auth_sessions_ended ON auth_sessions (ended_at) WHERE ended_at IS NOT NULL`,
    `INSERT INTO auth_sessions (session_id, user_id, created_at, last_used_at, ended_at, end_reason)
     SELECT family_id, min(user_id::text)::uuid, min(created_at), max(created_at), max(revoked_at),
            CASE WHEN max(revoked_at) IS NULL THEN NULL ELSE 'logout' END
     FROM refresh_tokens GROUP BY family_id`,
    // A used token keeps the hash of the token it was exchanged for and that token sealed with a
    // key derived from the used token itself, so a retried refresh can be answered again (for a
    // few seconds) while the table alone reveals no usable token.
    `ALTER TABLE refresh_tokens ADD COLUMN successor_hash text`,
    `ALTER TABLE refresh_tokens ADD COLUMN successor_sealed text`,
  ],
  [
    // Records written before tags and favourites existed have none, which is what the defaults say.
    `ALTER TABLE rm_records ADD COLUMN tags jsonb NOT NULL DEFAULT '[]'::jsonb`,
    `ALTER TABLE rm_records ADD COLUMN favourite boolean NOT NULL DEFAULT false`,
  ],
];

export async function migrate(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(4242001)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const rows = await tx.query<{ id: number }>(`SELECT id FROM schema_migrations`);
    const applied = new Set(rows.map((r) => r.id));
    for (const [index, statements] of MIGRATIONS.entries()) {
      const id = index + 1;
      if (applied.has(id)) continue;
      for (const statement of statements) await tx.query(statement);
      await tx.query(`INSERT INTO schema_migrations (id) VALUES ($1)`, [id]);
    }
  });
}
