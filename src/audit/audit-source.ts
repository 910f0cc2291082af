import { streamIdForUser, userIdOfStream } from '../domain/vault-state.js';
import { LOG_START, type EventStore, type LogPosition } from '../server/eventstore/port.js';
import { SqlEventStore } from '../server/eventstore/sql.js';
import type { Database, SqlExecutor } from '../server/sql/database.js';
import type { ImageState } from '../domain/images.js';
import type { RecordState } from '../domain/decider.js';
import { readAllImageStates, readAllRecordStates } from '../read-model/read-model.js';

/**
 * Everything the audit tool reads: the users, the read model and the tailers' checkpoints inside
 * one READ ONLY, REPEATABLE READ transaction, and the log through the EventStore port. With the
 * log in the same database (no `log` given) it is read within that snapshot too, so the log and
 * the read model it is compared with cannot move apart while the audit runs. A separate event
 * store (KurrentDB) is read as it stands: the log only grows, and the read model is compared with
 * it up to the snapshot's checkpoint, so what is appended meanwhile shows as lag, not as a
 * difference.
 */
export async function withAuditSnapshot<T>(db: Database, fn: (source: AuditSource) => Promise<T>, log?: EventStore): Promise<T> {
  return db.transaction((tx) => fn(new AuditSource(tx, log ?? readOnlySqlStore(tx, db.kind))), { readOnly: true, repeatableRead: true });
}

/** The SQL event store over the snapshot (reads only: the transaction refuses any write). */
function readOnlySqlStore(tx: SqlExecutor, kind: Database['kind']): EventStore {
  const refuse = () => Promise.reject(new Error('the audit reads only'));
  // Query options (a prepared statement's name) pass through, so a page read costs what the server's does.
  return new SqlEventStore({ kind, query: (text, params, options) => tx.query(text, params, options), transaction: refuse, exec: refuse, close: async () => {} });
}

/** What one pass over the whole log finds: stream versions, counts, and where the checkpoints stand in it. */
interface LogSummary {
  /** Every stream's version (user streams and any other). */
  streams: Map<string, number>;
  events: number;
  eventsByType: Record<string, number>;
  /** Per checkpoint row: events after it, and each user's last version at or before it. */
  atCheckpoints: Map<string, { position: LogPosition; eventsBehind: number; userVersions: Map<string, number> }>;
}

const SCAN_PAGE = 5_000;

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


export class AuditSource {
  private scanned: Promise<LogSummary> | undefined;

  constructor(
    private readonly tx: SqlExecutor,
    /** The event log, read through the port (the SQL store over the snapshot, or KurrentDB). */
    readonly store: EventStore,
  ) {}

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
    return (await this.store.streamInfo(streamIdForUser(userId))).version > 0 ? { userId, login: null } : null;
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
    const out = new Map<string, number>();
    for (const [streamId, version] of (await this.summary()).streams) {
      const userId = userIdOfStream(streamId);
      if (userId) out.set(userId, version);
    }
    return out;
  }

  /**
   * One pass over the log, positions only (no event is parsed), kept for the audit's length:
   * what a SQL store could count with aggregates, any store can say this way.
   */
  private summary(): Promise<LogSummary> {
    this.scanned ??= this.scan();
    return this.scanned;
  }

  private async scan(): Promise<LogSummary> {
    const checkpointRows = await this.tx.query<{ projection: string; commit_position: string; prepare_position: string }>(
      `SELECT projection, commit_position::text AS commit_position, prepare_position::text AS prepare_position FROM rm_checkpoints`,
    );
    const summary: LogSummary = { streams: new Map(), events: 0, eventsByType: {}, atCheckpoints: new Map() };
    const checkpoints = checkpointRows.map((row) => {
      const entry = { position: { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) }, eventsBehind: 0, userVersions: new Map<string, number>() };
      summary.atCheckpoints.set(row.projection, entry);
      return entry;
    });
    let after = LOG_START;
    for (;;) {
      const page = await this.store.readAll(after, SCAN_PAGE, { types: [] });
      if (page.length === 0) return summary;
      for (const event of page) {
        summary.events++;
        summary.eventsByType[event.type] = (summary.eventsByType[event.type] ?? 0) + 1;
        summary.streams.set(event.streamId, Math.max(summary.streams.get(event.streamId) ?? 0, event.version));
        const userId = userIdOfStream(event.streamId);
        for (const checkpoint of checkpoints) {
          if (!atOrBefore(event.position, checkpoint.position)) checkpoint.eventsBehind++;
          else if (userId) checkpoint.userVersions.set(userId, event.version);
        }
      }
      after = page[page.length - 1]!.position;
    }
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

  async checkpoint(projection = PROJECTION): Promise<LogPosition | null> {
    const rows = await this.tx.query<{ commit_position: string; prepare_position: string }>(
      `SELECT commit_position::text AS commit_position, prepare_position::text AS prepare_position FROM rm_checkpoints WHERE projection = $1`,
      [projection],
    );
    const row = rows[0];
    return row ? { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) } : null;
  }

  /** For each user stream, the highest version at or before the projector's checkpoint: what it says it has applied. */
  async versionsAtCheckpoint(projection = PROJECTION): Promise<Map<string, number>> {
    return (await this.summary()).atCheckpoints.get(projection)?.userVersions ?? new Map();
  }

  async stats(): Promise<AuditStats> {
    const summary = await this.summary();
    const streams = await this.userStreams();
    const userRows = await this.tx.query<{ user_id: string }>(`SELECT user_id::text AS user_id FROM users`);
    const lengths = [...streams.values()].filter((version) => version > 0).sort((a, b) => a - b);
    const median = lengths.length === 0 ? 0 : lengths.length % 2 === 1 ? lengths[(lengths.length - 1) / 2]! : (lengths[lengths.length / 2 - 1]! + lengths[lengths.length / 2]!) / 2;
    const checkpointRows = await this.tx.query<{ projection: string; commit_position: string; prepare_position: string; updated_at: Date }>(
      `SELECT projection, commit_position::text AS commit_position, prepare_position::text AS prepare_position, updated_at FROM rm_checkpoints ORDER BY projection`,
    );
    const checkpoints: CheckpointStats[] = checkpointRows.map((row) => ({
      projection: row.projection,
      position: `${row.commit_position}/${row.prepare_position}`,
      updatedAt: row.updated_at.getTime(),
      eventsBehind: summary.atCheckpoints.get(row.projection)?.eventsBehind ?? 0,
    }));
    const projected = await this.readModelVersions();
    let behind = 0;
    for (const [userId, version] of streams) if ((projected.get(userId) ?? 0) < version) behind++;
    const eventsByType = Object.fromEntries(Object.entries(summary.eventsByType).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      users: userRows.length,
      usersWithoutEvents: userRows.filter((row) => (streams.get(row.user_id) ?? 0) === 0).length,
      events: summary.events,
      eventsByType,
      streamLengths: { streams: lengths.length, min: lengths[0] ?? 0, median, max: lengths.at(-1) ?? 0 },
      checkpoints,
      eventsWithoutCheckpoint: checkpoints.some((c) => c.projection === PROJECTION) ? null : summary.events,
      readModelUsersBehind: behind,
    };
  }
}

function atOrBefore(position: LogPosition, checkpoint: LogPosition): boolean {
  return position.commit < checkpoint.commit || (position.commit === checkpoint.commit && position.prepare <= checkpoint.prepare);
}
