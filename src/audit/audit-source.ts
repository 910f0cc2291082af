import { streamIdForUser, userIdOfStream } from '../domain/vault-state.js';
import type { LogPosition } from '../server/eventstore/port.js';
import { SqlEventStore } from '../server/eventstore/sql.js';
import type { Database, SqlExecutor } from '../server/sql/database.js';
import type { ImageState } from '../domain/images.js';
import type { RecordState } from '../domain/decider.js';
import { readAllImageStates, readAllRecordStates } from '../read-model/read-model.js';

/**
 * Everything the audit tool reads, inside one READ ONLY, REPEATABLE READ transaction: the event
 * store (through the EventStore port, so a KurrentDB adapter can take its place), the users, the
 * read model and the projector's checkpoint, all from one snapshot, so the log and the read model
 * it is compared with cannot move apart while the audit runs.
 */
export async function withAuditSnapshot<T>(db: Database, fn: (source: AuditSource) => Promise<T>): Promise<T> {
  return db.transaction((tx) => fn(new AuditSource(tx, db.kind)), { readOnly: true, repeatableRead: true });
}

export interface AuditUser {
  userId: string;
  /** Null for a stream whose user row is gone. */
  login: string | null;
}

/**
 * A read-model row as the audit reads it, loosely typed: a hand-edited row may hold any kind and
 * any fields, and the check must say so rather than trust the record type.
 */
export type ReadModelRow = Omit<RecordState, 'kind' | 'fields'> & { kind: string; fields: unknown };

export interface ReadModelVersion {
  version: number;
  lastModifiedAt: number;
  keyId: string | null;
  keyEnvelope: string | null;
}

export interface StreamStats {
  streams: number;
  min: number;
  median: number;
  max: number;
}

export interface CheckpointStats {
  projection: string;
  position: string;
  updatedAt: number;
  /** Events in the log after the checkpoint (the projector has not applied them yet). */
  eventsBehind: number;
}

export interface AuditStats {
  users: number;
  usersWithoutEvents: number;
  events: number;
  eventsByType: Record<string, number>;
  streamLengths: StreamStats;
  checkpoints: CheckpointStats[];
  /** Events in the log when no checkpoint exists yet (the projector never ran). */
  eventsWithoutCheckpoint: number | null;
  /** Users whose read-model version is below their stream's version. */
  readModelUsersBehind: number;
}

export const PROJECTION = 'vault-records';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

export class AuditSource {
  /** The event store over this snapshot (reads only: the transaction refuses any write). */
  readonly store: SqlEventStore;

  constructor(
    private readonly tx: SqlExecutor,
    kind: Database['kind'],
  ) {
    const refuse = () => Promise.reject(new Error('the audit reads only'));
    // Query options (a prepared statement's name) pass through, so a page read costs what the server's does.
    this.store = new SqlEventStore({ kind, query: (text, params, options) => tx.query(text, params, options), transaction: refuse, exec: refuse, close: async () => {} });
  }

  /** Raw SQL within the snapshot (tests use it to prove the transaction refuses writes). */
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.tx.query<Row>(text, params);
  }

  /** By login (any letter case), or by user id (also for a stream whose user row is gone). */
  async findUser(ref: string): Promise<AuditUser | null> {
    const rows = await this.tx.query<{ user_id: string; login: string }>(`SELECT user_id::text AS user_id, login FROM users WHERE lower(login) = lower($1)`, [ref]);
    if (rows[0]) return { userId: rows[0].user_id, login: rows[0].login };
    if (!UUID.test(ref)) return null;
    const userId = ref.toLowerCase();
    const byId = await this.tx.query<{ login: string }>(`SELECT login FROM users WHERE user_id = $1::uuid`, [userId]);
    if (byId[0]) return { userId, login: byId[0].login };
    const stream = await this.tx.query(`SELECT 1 FROM streams WHERE stream_id = $1`, [streamIdForUser(userId)]);
    return stream.length > 0 ? { userId, login: null } : null;
  }

  async logins(): Promise<Map<string, string>> {
    const rows = await this.tx.query<{ user_id: string; login: string }>(`SELECT user_id::text AS user_id, login FROM users`);
    return new Map(rows.map((row) => [row.user_id, row.login]));
  }

  async streamVersion(userId: string): Promise<number> {
    return (await this.store.streamInfo(streamIdForUser(userId))).version;
  }

  /** Every user stream and its version. */
  async userStreams(): Promise<Map<string, number>> {
    const rows = await this.tx.query<{ stream_id: string; version: number }>(`SELECT stream_id, version FROM streams WHERE stream_id LIKE 'user-%'`);
    const out = new Map<string, number>();
    for (const row of rows) {
      const userId = userIdOfStream(row.stream_id);
      if (userId) out.set(userId, row.version);
    }
    return out;
  }

  /** Users that have anything in the read model (a version row or record rows). */
  async readModelUserIds(): Promise<Set<string>> {
    const rows = await this.tx.query<{ user_id: string }>(
      `SELECT user_id::text AS user_id FROM rm_user_versions UNION SELECT DISTINCT user_id::text FROM rm_records`,
    );
    return new Set(rows.map((row) => row.user_id));
  }

  async readModelVersion(userId: string): Promise<ReadModelVersion | null> {
    const rows = await this.tx.query<{ version: number; last_modified_at: Date; key_id: string | null; key_envelope: string | null }>(
      `SELECT version, last_modified_at, key_id::text AS key_id, key_envelope FROM rm_user_versions WHERE user_id = $1::uuid`,
      [userId],
    );
    const row = rows[0];
    return row ? { version: row.version, lastModifiedAt: row.last_modified_at.getTime(), keyId: row.key_id, keyEnvelope: row.key_envelope } : null;
  }

  /** All of a user's image rows, detached ones included. */
  async readModelImages(userId: string): Promise<Map<string, ImageState>> {
    return new Map((await readAllImageStates(this.tx, userId)).map((image) => [image.id, image]));
  }

  /** All of a user's read-model rows, deleted ones included. */
  async readModelRecords(userId: string): Promise<Map<string, ReadModelRow>> {
    return new Map((await readAllRecordStates(this.tx, userId)).map((record) => [record.id, record]));
  }

  /** Each user's version in rm_user_versions (one user's when `userId` is given). */
  async readModelVersions(userId?: string): Promise<Map<string, number>> {
    const rows = await this.tx.query<{ user_id: string; version: number }>(
      `SELECT user_id::text AS user_id, version FROM rm_user_versions${userId ? ' WHERE user_id = $1::uuid' : ''}`,
      userId ? [userId] : [],
    );
    return new Map(rows.map((row) => [row.user_id, row.version]));
  }

  /** Where the event of `version` in the user's stream sits in the global log; null when there is none. */
  async positionOf(userId: string, version: number): Promise<LogPosition | null> {
    const rows = await this.tx.query<{ commit_position: string; prepare_position: string }>(
      `SELECT transaction_id::text AS commit_position, global_position::text AS prepare_position FROM events WHERE stream_id = $1 AND version = $2`,
      [streamIdForUser(userId), version],
    );
    const row = rows[0];
    return row ? { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) } : null;
  }

  async checkpoint(projection = PROJECTION): Promise<LogPosition | null> {
    const rows = await this.tx.query<{ commit_position: string; prepare_position: string }>(
      `SELECT commit_position::text AS commit_position, prepare_position::text AS prepare_position FROM rm_checkpoints WHERE projection = $1`,
      [projection],
    );
    const row = rows[0];
    return row ? { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) } : null;
  }

  /**
   * For each user stream, the highest version at or before the checkpoint: what the projector
   * says it has applied, so the read model must be at least there. One scan of the log (or of one
   * stream when `userId` is given).
   */
  async versionsAtCheckpoint(position: LogPosition, userId?: string): Promise<Map<string, number>> {
    const params: unknown[] = [position.commit.toString(), position.prepare.toString()];
    let where = `stream_id LIKE 'user-%'`;
    if (userId) {
      params.push(streamIdForUser(userId));
      where = `stream_id = $3`;
    }
    const rows = await this.tx.query<{ stream_id: string; version: number }>(
      `SELECT stream_id, max(version) AS version FROM events
       WHERE ${where} AND (transaction_id, global_position) <= ($1::text::xid8, $2::bigint)
       GROUP BY stream_id`,
      params,
    );
    const out = new Map<string, number>();
    for (const row of rows) {
      const id = userIdOfStream(row.stream_id);
      if (id) out.set(id, row.version);
    }
    return out;
  }

  async stats(): Promise<AuditStats> {
    const [users] = await this.tx.query<{ users: unknown; without: unknown }>(
      `SELECT count(*) AS users,
              count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream_id = 'user-' || u.user_id::text AND s.version > 0)) AS without
       FROM users u`,
    );
    const [streams] = await this.tx.query<{ streams: unknown; min: unknown; median: unknown; max: unknown }>(
      `SELECT count(*) AS streams, min(version) AS min, max(version) AS max,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY version) AS median
       FROM streams WHERE stream_id LIKE 'user-%'`,
    );
    const byType = await this.tx.query<{ type: string; count: unknown }>(`SELECT type, count(*) AS count FROM events GROUP BY type ORDER BY type`);
    const eventsByType: Record<string, number> = {};
    let events = 0;
    for (const row of byType) {
      eventsByType[row.type] = num(row.count);
      events += num(row.count);
    }
    const checkpointRows = await this.tx.query<{ projection: string; commit_position: string; prepare_position: string; updated_at: Date }>(
      `SELECT projection, commit_position::text AS commit_position, prepare_position::text AS prepare_position, updated_at FROM rm_checkpoints ORDER BY projection`,
    );
    const checkpoints: CheckpointStats[] = [];
    for (const row of checkpointRows) {
      const [behind] = await this.tx.query<{ count: unknown }>(
        `SELECT count(*) AS count FROM events WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)`,
        [row.commit_position, row.prepare_position],
      );
      checkpoints.push({
        projection: row.projection,
        position: `${row.commit_position}/${row.prepare_position}`,
        updatedAt: row.updated_at.getTime(),
        eventsBehind: num(behind?.count),
      });
    }
    const [behindUsers] = await this.tx.query<{ count: unknown }>(
      `SELECT count(*) AS count FROM streams s
       LEFT JOIN rm_user_versions v ON s.stream_id = 'user-' || v.user_id::text
       WHERE s.stream_id LIKE 'user-%' AND coalesce(v.version, 0) < s.version`,
    );
    return {
      users: num(users?.users),
      usersWithoutEvents: num(users?.without),
      events,
      eventsByType,
      streamLengths: { streams: num(streams?.streams), min: num(streams?.min), median: num(streams?.median), max: num(streams?.max) },
      checkpoints,
      eventsWithoutCheckpoint: checkpoints.some((c) => c.projection === PROJECTION) ? null : events,
      readModelUsersBehind: num(behindUsers?.count),
    };
  }
}
