import type { RecordState } from '../domain/decider.js';
import type { ImageState, RenditionInfo } from '../domain/images.js';
import type { VaultRecord } from '../domain/record.js';
import type { Database, SqlExecutor } from '../server/sql/database.js';

/** What List answers: the live records and the stream version they reflect. */
export interface VaultSnapshot {
  version: number;
  lastModifiedAt: number;
  records: VaultRecord[];
  /** The images attached to those records now. */
  images: ImageState[];
  vaultKey: VaultKeyRow | null;
}

export interface VaultKeyRow {
  keyId: string;
  envelope: string;
}

interface RecordRow {
  record_id: string;
  kind: RecordState['kind'];
  name: string;
  fields: RecordState['fields'];
  tags: string[];
  favourite: boolean;
  created_at: Date;
  updated_at: Date;
  version: number;
  deleted_at: Date | null;
  conflict_of: string | null;
}

const RECORD_COLUMNS = `record_id::text AS record_id, kind, name, fields, tags, favourite, created_at, updated_at, version, deleted_at, conflict_of::text AS conflict_of`;

/** Reads the records and the user's version in one snapshot, so they always agree. */
export async function readSnapshot(db: Database, userId: string): Promise<VaultSnapshot> {
  return db.transaction(
    async (tx) => {
      const versions = await tx.query<{ version: number; last_modified_at: Date; key_id: string | null; key_envelope: string | null }>(
        `SELECT version, last_modified_at, key_id::text AS key_id, key_envelope FROM rm_user_versions WHERE user_id = $1`,
        [userId],
      );
      const rows = await tx.query<RecordRow>(
        `SELECT ${RECORD_COLUMNS} FROM rm_records WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at, record_id`,
        [userId],
      );
      const images = await tx.query<ImageRow>(
        `SELECT ${IMAGE_COLUMNS} FROM rm_images i
         WHERE i.user_id = $1 AND i.detached_at IS NULL
           AND EXISTS (SELECT 1 FROM rm_records r WHERE r.user_id = i.user_id AND r.record_id = i.record_id AND r.deleted_at IS NULL)
         ORDER BY i.created_at, i.image_id`,
        [userId],
      );
      const row = versions[0];
      return {
        images: images.map(imageFromRow),
        vaultKey: row?.key_id && row.key_envelope ? { keyId: row.key_id, envelope: row.key_envelope } : null,
        version: versions[0]?.version ?? 0,
        lastModifiedAt: versions[0]?.last_modified_at.getTime() ?? 0,
        records: rows.map((row) => {
          const { deletedAt: _deletedAt, ...record } = fromRow(row);
          return record;
        }),
      };
    },
    { readOnly: true, repeatableRead: true },
  );
}

/** What every page of a listing is read with: the version the read model reflects for the user. */
export interface SnapshotHead {
  version: number;
  lastModifiedAt: number;
  vaultKey: VaultKeyRow | null;
}

/**
 * The head's columns, for a page's statement to read with its rows: one statement sees one
 * snapshot, so a page needs no transaction (a transaction cost BEGIN, the head's query and COMMIT
 * besides the page's: four round trips to the database where one does).
 */
const HEAD = `head AS (
  SELECT version AS head_version, last_modified_at AS head_modified_at, key_id::text AS head_key_id, key_envelope AS head_key_envelope
  FROM rm_user_versions WHERE user_id = $1)`;

interface HeadColumns {
  head_version: number | null;
  head_modified_at: Date | null;
  head_key_id: string | null;
  head_key_envelope: string | null;
}

/** The head as a page's first row carries it (a user with no version yet is at 0). */
function headOf(row: HeadColumns | undefined): SnapshotHead {
  return {
    version: row?.head_version ?? 0,
    lastModifiedAt: row?.head_modified_at?.getTime() ?? 0,
    vaultKey: row?.head_key_id && row.head_key_envelope ? { keyId: row.head_key_id, envelope: row.head_key_envelope } : null,
  };
}

/**
 * Live records after `after` in record id order, at most maxCount and, but for the first, no more
 * than fit in maxBytes (name and fields as JSON text), read in one snapshot with the head.
 * `complete` says no live record comes after the page, so the caller need not ask again to learn it.
 */
export async function readRecordsPage(
  db: Database,
  userId: string,
  after: string | null,
  maxCount: number,
  maxBytes: number,
): Promise<{ head: SnapshotHead; records: VaultRecord[]; complete: boolean }> {
  // One row for the head even when the page is empty (the LEFT JOINs), then one per record.
  const rows = await db.query<HeadColumns & { [K in keyof RecordRow]: RecordRow[K] | null } & { candidates: number | null }>(
    `WITH ${HEAD},
     page AS (
       SELECT ${RECORD_COLUMNS}, n, candidates FROM (
         SELECT *, sum(octet_length(fields::text) + octet_length(name) + octet_length(tags::text)) OVER (ORDER BY record_id) AS running,
                row_number() OVER (ORDER BY record_id) AS n, count(*) OVER ()::int AS candidates
         FROM (SELECT * FROM rm_records WHERE user_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR record_id > $2::uuid)
               ORDER BY record_id LIMIT $3) c) measured
       WHERE n = 1 OR running <= $4)
     SELECT head.*, page.* FROM (SELECT 1) one LEFT JOIN head ON true LEFT JOIN page ON true
     ORDER BY page.n`,
    [userId, after, maxCount, maxBytes],
    { name: 'keeper_rm_records_page_with_head' },
  );
  const records: VaultRecord[] = [];
  for (const row of rows) {
    if (row.record_id === null) continue;
    const { deletedAt: _deletedAt, ...record } = fromRow(row as RecordRow);
    records.push(record);
  }
  // Fewer candidates than asked for means the table ends here; all of them sent, nothing follows.
  const candidates = rows[0]?.candidates ?? 0;
  return { head: headOf(rows[0]), records, complete: candidates < maxCount && records.length === candidates };
}

/**
 * Images of live records after `after` in image id order, at most maxCount, read in one snapshot
 * with the head; `complete` says none comes after the page.
 */
export async function readImagesPage(db: Database, userId: string, after: string | null, maxCount: number): Promise<{ head: SnapshotHead; images: ImageState[]; complete: boolean }> {
  const rows = await db.query<HeadColumns & { [K in keyof ImageRow]: ImageRow[K] | null }>(
    `WITH ${HEAD},
     page AS (
       SELECT ${IMAGE_COLUMNS} FROM rm_images i
       WHERE i.user_id = $1 AND i.detached_at IS NULL AND ($2::uuid IS NULL OR i.image_id > $2::uuid)
         AND EXISTS (SELECT 1 FROM rm_records r WHERE r.user_id = i.user_id AND r.record_id = i.record_id AND r.deleted_at IS NULL)
       ORDER BY i.image_id LIMIT $3)
     SELECT head.*, page.* FROM (SELECT 1) one LEFT JOIN head ON true LEFT JOIN page ON true
     ORDER BY page.image_id`,
    [userId, after, maxCount],
    { name: 'keeper_rm_images_page_with_head' },
  );
  const images = rows.filter((row) => row.image_id !== null).map((row) => imageFromRow(row as ImageRow));
  return { head: headOf(rows[0]), images, complete: images.length < maxCount };
}

export async function readUserVersion(tx: SqlExecutor, userId: string): Promise<number> {
  const rows = await tx.query<{ version: number }>(`SELECT version FROM rm_user_versions WHERE user_id = $1`, [userId]);
  return rows[0]?.version ?? 0;
}

/** Every stored record state of one user (deleted ones included), for checking the read model. */
export async function readAllRecordStates(tx: SqlExecutor, userId: string): Promise<RecordState[]> {
  const rows = await tx.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM rm_records WHERE user_id = $1 ORDER BY record_id`, [userId]);
  return rows.map(fromRow);
}

/** The stored states (deleted ones included) of the given records. */
export async function readRecordStates(tx: SqlExecutor, userId: string, recordIds: string[]): Promise<Map<string, RecordState>> {
  const rows = await tx.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM rm_records WHERE user_id = $1 AND record_id = ANY($2::uuid[])`,
    [userId, recordIds],
  );
  return new Map(rows.map((row) => [row.record_id, fromRow(row)]));
}

export async function writeRecordStates(tx: SqlExecutor, userId: string, states: RecordState[]): Promise<void> {
  await writeRecordStatesOf(tx, states.map((state) => ({ userId, state })));
}

/** Records the version the read model reflects, and the vault key when this batch set one. */
export async function writeUserVersion(tx: SqlExecutor, userId: string, version: number, lastModifiedAt: number, vaultKey?: VaultKeyRow): Promise<void> {
  await writeUserVersions(tx, [{ userId, version, lastModifiedAt, vaultKey }]);
}

/** The read-model versions of several users in one query (a user not in the map is at 0). */
export async function readUserVersions(tx: SqlExecutor, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await tx.query<{ user_id: string; version: number }>(
    `SELECT user_id::text AS user_id, version FROM rm_user_versions WHERE user_id = ANY($1::uuid[])`,
    [userIds],
    { name: 'keeper_rm_read_versions' },
  );
  return new Map(rows.map((row) => [row.user_id, row.version]));
}

export interface RecordKey {
  userId: string;
  recordId: string;
}

/** The stored states (deleted ones included) of records of several users in one query, by user then record id. */
export async function readRecordStatesOf(tx: SqlExecutor, keys: readonly RecordKey[]): Promise<Map<string, Map<string, RecordState>>> {
  const byUser = new Map<string, Map<string, RecordState>>();
  if (keys.length === 0) return byUser;
  const rows = await tx.query<RecordRow & { user_id: string }>(
    `SELECT user_id::text AS user_id, ${RECORD_COLUMNS} FROM rm_records
     WHERE (user_id, record_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))`,
    [keys.map((key) => key.userId), keys.map((key) => key.recordId)],
    { name: 'keeper_rm_read_records' },
  );
  for (const row of rows) {
    let states = byUser.get(row.user_id);
    if (!states) byUser.set(row.user_id, (states = new Map()));
    states.set(row.record_id, fromRow(row));
  }
  return byUser;
}

/** SQL for a timestamptz from epoch milliseconds given as JSON text (null stays null), exact to the millisecond. */
const fromEpochMs = (text: string) => `(timestamptz 'epoch' + interval '1 millisecond' * (${text})::bigint)`;

/** Upserts record states of several users in one statement (each (user, record) at most once). */
export async function writeRecordStatesOf(tx: SqlExecutor, rows: ReadonlyArray<{ userId: string; state: RecordState }>): Promise<void> {
  if (rows.length === 0) return;
  // The rows go as one JSON document (times as epoch milliseconds): a statement of fixed text
  // however many rows it writes, and the driver sends one string instead of escaping every value
  // of ten array parameters.
  const records = rows.map(({ userId, state }) => [
    userId,
    state.id,
    state.kind,
    state.name,
    state.fields,
    state.createdAt,
    state.updatedAt,
    state.version,
    state.deletedAt,
    state.conflictOf ?? null,
    state.tags,
    state.favourite,
  ]);
  await tx.query(
    `INSERT INTO rm_records (user_id, record_id, kind, name, fields, created_at, updated_at, version, deleted_at, conflict_of, tags, favourite)
     SELECT (r->>0)::uuid, (r->>1)::uuid, r->>2, r->>3, r->4, ${fromEpochMs('r->>5')}, ${fromEpochMs('r->>6')},
            (r->>7)::integer, ${fromEpochMs('r->>8')}, (r->>9)::uuid, r->10, (r->>11)::boolean
     FROM jsonb_array_elements($1::jsonb) AS r
     ON CONFLICT (user_id, record_id) DO UPDATE SET
       kind = EXCLUDED.kind, name = EXCLUDED.name, fields = EXCLUDED.fields, created_at = EXCLUDED.created_at,
       updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, deleted_at = EXCLUDED.deleted_at,
       conflict_of = EXCLUDED.conflict_of, tags = EXCLUDED.tags, favourite = EXCLUDED.favourite`,
    [JSON.stringify(records)],
    { name: 'keeper_rm_write_records' },
  );
}

export interface UserVersionRow {
  userId: string;
  version: number;
  lastModifiedAt: number;
  /** The vault key the user's events set, if they set one (an earlier key is kept otherwise). */
  vaultKey?: VaultKeyRow | undefined;
}

/** Upserts the versions (and any new vault keys) of several users in one statement (each user at most once). */
export async function writeUserVersions(tx: SqlExecutor, rows: readonly UserVersionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO rm_user_versions (user_id, version, last_modified_at, key_id, key_envelope)
     SELECT * FROM unnest($1::uuid[], $2::integer[], $3::timestamptz[], $4::uuid[], $5::text[])
     ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version, last_modified_at = EXCLUDED.last_modified_at,
       key_id = COALESCE(EXCLUDED.key_id, rm_user_versions.key_id), key_envelope = COALESCE(EXCLUDED.key_envelope, rm_user_versions.key_envelope)`,
    [
      rows.map((row) => row.userId),
      rows.map((row) => row.version),
      rows.map((row) => new Date(row.lastModifiedAt)),
      rows.map((row) => row.vaultKey?.keyId ?? null),
      rows.map((row) => row.vaultKey?.envelope ?? null),
    ],
    { name: 'keeper_rm_write_versions' },
  );
}

interface ImageRow {
  image_id: string;
  record_id: string;
  file_name: string;
  original: RenditionInfo;
  encrypted: boolean;
  status: ImageState['status'];
  cover: RenditionInfo | null;
  compact: RenditionInfo | null;
  failure: string | null;
  created_at: Date;
  version: number;
  detached_at: Date | null;
}

const IMAGE_COLUMNS = `i.image_id::text AS image_id, i.record_id::text AS record_id, i.file_name, i.original, i.encrypted, i.status,
  i.cover, i.compact, i.failure, i.created_at, i.version, i.detached_at`;

export interface ImageKey {
  userId: string;
  imageId: string;
}

/** The stored states (detached ones included) of images of several users in one query, by user then image id. */
export async function readImageStatesOf(tx: SqlExecutor, keys: readonly ImageKey[]): Promise<Map<string, Map<string, ImageState>>> {
  const byUser = new Map<string, Map<string, ImageState>>();
  if (keys.length === 0) return byUser;
  const rows = await tx.query<ImageRow & { user_id: string }>(
    `SELECT i.user_id::text AS user_id, ${IMAGE_COLUMNS} FROM rm_images i
     WHERE (i.user_id, i.image_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))`,
    [keys.map((key) => key.userId), keys.map((key) => key.imageId)],
    { name: 'keeper_rm_read_images' },
  );
  for (const row of rows) {
    let states = byUser.get(row.user_id);
    if (!states) byUser.set(row.user_id, (states = new Map()));
    states.set(row.image_id, imageFromRow(row));
  }
  return byUser;
}

/** Upserts image states of several users in one statement (each (user, image) at most once). */
export async function writeImageStatesOf(tx: SqlExecutor, rows: ReadonlyArray<{ userId: string; state: ImageState }>): Promise<void> {
  if (rows.length === 0) return;
  const columns: unknown[][] = Array.from({ length: 13 }, () => []);
  for (const { userId, state } of rows) {
    const values = [
      userId,
      state.id,
      state.recordId,
      state.fileName,
      JSON.stringify(state.original),
      state.encrypted,
      state.status,
      state.cover ? JSON.stringify(state.cover) : null,
      state.compact ? JSON.stringify(state.compact) : null,
      state.failure ?? null,
      new Date(state.createdAt),
      state.version,
      state.detachedAt === null ? null : new Date(state.detachedAt),
    ];
    values.forEach((value, index) => columns[index]!.push(value));
  }
  await tx.query(
    `INSERT INTO rm_images (user_id, image_id, record_id, file_name, original, encrypted, status, cover, compact, failure, created_at, version, detached_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::boolean[], $7::text[], $8::jsonb[], $9::jsonb[],
                          $10::text[], $11::timestamptz[], $12::integer[], $13::timestamptz[])
     ON CONFLICT (user_id, image_id) DO UPDATE SET
       record_id = EXCLUDED.record_id, file_name = EXCLUDED.file_name, original = EXCLUDED.original, encrypted = EXCLUDED.encrypted,
       status = EXCLUDED.status, cover = EXCLUDED.cover, compact = EXCLUDED.compact, failure = EXCLUDED.failure,
       created_at = EXCLUDED.created_at, version = EXCLUDED.version, detached_at = EXCLUDED.detached_at`,
    columns,
    { name: 'keeper_rm_write_images' },
  );
}

/** Every image state of one user (detached ones included), for checking the read model. */
export async function readAllImageStates(tx: SqlExecutor, userId: string): Promise<ImageState[]> {
  const rows = await tx.query<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM rm_images i WHERE i.user_id = $1 ORDER BY i.image_id`, [userId]);
  return rows.map(imageFromRow);
}

function imageFromRow(row: ImageRow): ImageState {
  const state: ImageState = {
    id: row.image_id,
    recordId: row.record_id,
    fileName: row.file_name,
    original: row.original,
    encrypted: row.encrypted,
    status: row.status,
    createdAt: row.created_at.getTime(),
    version: row.version,
    detachedAt: row.detached_at ? row.detached_at.getTime() : null,
  };
  if (row.cover) state.cover = row.cover;
  if (row.compact) state.compact = row.compact;
  if (row.failure !== null) state.failure = row.failure;
  return state;
}

/** The projector's row in rm_checkpoints (other log tailers have rows of their own). */
export const READ_MODEL_CHECKPOINT = 'vault-records';

/** Empties the read model and its checkpoint (for a rebuild from the start of the log); other tailers keep their place. */
export async function clearReadModel(tx: SqlExecutor): Promise<void> {
  await tx.query(`DELETE FROM rm_images`);
  await tx.query(`DELETE FROM rm_records`);
  await tx.query(`DELETE FROM rm_user_versions`);
  await tx.query(`DELETE FROM rm_checkpoints WHERE projection = $1`, [READ_MODEL_CHECKPOINT]);
}

function fromRow(row: RecordRow): RecordState {
  const state: RecordState = {
    id: row.record_id,
    kind: row.kind,
    name: row.name,
    fields: row.fields,
    tags: row.tags,
    favourite: row.favourite,
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
    version: row.version,
    deletedAt: row.deleted_at ? row.deleted_at.getTime() : null,
  };
  if (row.conflict_of) state.conflictOf = row.conflict_of;
  return state;
}
