import type { Database, SqlExecutor } from '../sql/database.js';
import { GroupCommit } from './group-commit.js';
import {
  DuplicateEventId,
  WrongExpectedVersion,
  type AppendResult,
  type EventStore,
  type LogPosition,
  type LoggedEvent,
  type NewEvent,
  type ReadAllOptions,
  type StoredEvent,
  type StreamInfo,
} from './port.js';

/** What one append asks of the group commit. */
interface AppendRequest {
  streamId: string;
  expectedVersion: number;
  events: readonly NewEvent[];
}

export interface SqlEventStoreOptions {
  /**
   * Append statements running at once. Appends that arrive meanwhile are written together in the
   * next statement (group commit), so under load PostgreSQL parses, plans and commits once for
   * many appends instead of once each. Default 1: on the 2-core reference machine 50 clients
   * pushed 15-17k events/s with 1, 15k with 2 and 12k with 4, since groups shrink as statements
   * multiply, and each statement costs about as much as a group of several appends.
   */
  appendsInFlight?: number;
}

/** A group stops growing at this many events (a bigger append goes alone). */
const GROUP_MAX_EVENTS = 2000;

/**
 * Claims every stream of the group (the compare-and-set on its row) and inserts the events of the
 * streams whose claim succeeded, in one autocommitted statement: a claim and its events commit or
 * roll back together, and a failed claim writes nothing for its stream. Claims and events come as
 * two JSON arrays, so one prepared statement serves any group and the driver sends two strings
 * (array parameters would make it escape every element). The events keep the order they were
 * given in, so within a stream the log's positions follow the versions. The log stays gap-safe:
 * the statement's events carry its transaction id like any other transaction's.
 */
const APPEND_GROUP_SQL = `
  WITH claims AS (
    SELECT c->>0 AS stream_id, (c->>1)::integer AS expected_version, (c->>2)::integer AS next_version
    FROM jsonb_array_elements($1::jsonb) AS c
  ),
  updated AS (
    UPDATE streams s SET version = c.next_version, updated_at = now()
    FROM claims c
    WHERE c.expected_version > 0 AND s.stream_id = c.stream_id AND s.version = c.expected_version
    RETURNING s.stream_id
  ),
  created AS (
    INSERT INTO streams (stream_id, version, updated_at)
    SELECT stream_id, next_version, now() FROM claims WHERE expected_version = 0
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING stream_id
  ),
  inserted AS (
    INSERT INTO events (stream_id, version, event_id, type, data, metadata)
    SELECT e->>0, (e->>1)::integer, (e->>2)::uuid, e->>3, e->4, e->5
    FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS given(e, n)
    WHERE e->>0 IN (SELECT stream_id FROM updated UNION ALL SELECT stream_id FROM created)
    ORDER BY n
    RETURNING stream_id
  )
  SELECT stream_id, count(*)::integer AS count FROM inserted GROUP BY stream_id`;

/**
 * The event store on PostgreSQL, through the SQL port, so the same statements run on `pg` and on
 * PGlite. The stream row is a compare-and-set guard: an append updates it only at the expected
 * version, which also holds its row lock until commit and so serialises appends to one stream.
 */
export class SqlEventStore implements EventStore {
  /** (A unique index on stream and event id.) */
  readonly guarantees = { eventIdsUniqueInStream: true };
  private readonly listeners = new Set<(streamId: string, version: number) => void>();
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;

  constructor(
    private readonly db: Database,
    options: SqlEventStoreOptions = {},
  ) {
    this.appends = new GroupCommit({
      maxInFlight: options.appendsInFlight ?? 1,
      maxWeight: GROUP_MAX_EVENTS,
      weightOf: (request) => request.events.length,
      keyOf: (request) => request.streamId,
      write: (group) => this.appendGroup(group),
    });
  }

  async append(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    if (events.length === 0) {
      const info = await this.streamInfo(streamId);
      if (info.version !== expectedVersion) throw new WrongExpectedVersion(streamId, expectedVersion, info.version);
      return { nextVersion: expectedVersion, duplicate: false };
    }
    const result = await this.appends.submit({ streamId, expectedVersion, events });
    if (!result.duplicate) {
      for (const listener of this.listeners) {
        // The events are committed: a failing listener must not turn the append into an error.
        try {
          listener(streamId, result.nextVersion);
        } catch {
          // Listeners only wake tailers, which also poll; nothing is lost.
        }
      }
    }
    return result;
  }

  /** One statement for the group; each append then gets its own answer. */
  private async appendGroup(group: readonly AppendRequest[]): Promise<Array<PromiseSettledResult<AppendResult>>> {
    let counts: Map<string, number>;
    try {
      counts = await this.claimAndInsert(group);
    } catch (error) {
      // One append's duplicate event id (or a lock cycle with another server's group) fails the
      // whole statement: then each append goes alone, so the error is only its own.
      if (group.length > 1 && (isUniqueViolation(error) || isDeadlock(error))) return Promise.allSettled(group.map((request) => this.appendAlone(request)));
      const reason = isUniqueViolation(error) && group.length === 1 ? new DuplicateEventId(group[0]!.events.map((e) => e.id)) : error;
      return group.map(() => ({ status: 'rejected', reason }));
    }
    return Promise.allSettled(group.map((request) => this.answer(request, counts)));
  }

  private async appendAlone(request: AppendRequest): Promise<AppendResult> {
    let counts: Map<string, number>;
    try {
      counts = await this.claimAndInsert([request]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateEventId(request.events.map((e) => e.id));
      throw error;
    }
    return this.answer(request, counts);
  }

  private answer(request: AppendRequest, counts: Map<string, number>): Promise<AppendResult> | AppendResult {
    const { streamId, expectedVersion, events } = request;
    return counts.get(streamId) === events.length
      ? { nextVersion: expectedVersion + events.length, duplicate: false }
      : this.retryOrConflict(streamId, expectedVersion, events);
  }

  /** Runs APPEND_GROUP_SQL; answers how many events each claimed stream received. */
  private async claimAndInsert(group: readonly AppendRequest[]): Promise<Map<string, number>> {
    // Streams in one order everywhere, so two servers' groups lock shared streams in the same order.
    const ordered = group.length > 1 ? [...group].sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)) : group;
    const claims: Array<[string, number, number]> = [];
    const rows: Array<[string, number, string, string, unknown, Record<string, unknown>]> = [];
    for (const { streamId, expectedVersion, events } of ordered) {
      claims.push([streamId, expectedVersion, expectedVersion + events.length]);
      events.forEach((event, index) => rows.push([streamId, expectedVersion + index + 1, event.id, event.type, event.data, event.metadata]));
    }
    const counts = await this.db.query<{ stream_id: string; count: number }>(APPEND_GROUP_SQL, [JSON.stringify(claims), JSON.stringify(rows)], {
      name: 'keeper_append_group',
    });
    return new Map(counts.map((row) => [row.stream_id, row.count]));
  }

  async readStream(streamId: string, fromVersion: number, maxCount: number, maxBytes?: number): Promise<StoredEvent[]> {
    // Versions are dense (1..n), so the upper bound is implied by the LIMIT; stating it bounds the
    // rows the query touches whatever plan PostgreSQL picks (with stale statistics, e.g. right
    // after a bulk append, it may otherwise fetch and sort the rest of the stream for every page).
    const from = Math.max(1, fromVersion);
    // The page comes back as one JSON text: a single JSON.parse in V8 costs the reader far less
    // than the driver parsing each row's columns (two JSON documents and a timestamp per event),
    // which is what limits a replay of millions of events.
    const rows =
      maxBytes === undefined
        ? await this.db.query<{ page: string }>(
            `SELECT coalesce(json_agg(json_build_array(version, event_id, type, data, metadata, floor(extract(epoch FROM created_at) * 1000)::bigint)
                                      ORDER BY version), '[]')::text AS page
             FROM (SELECT version, event_id, type, data, metadata, created_at FROM events
                   WHERE stream_id = $1 AND version >= $2 AND version < $2::bigint + $3::bigint ORDER BY version LIMIT $3) page`,
            [streamId, from, maxCount],
            { name: 'keeper_read_stream_page' },
          )
        : // A running total of the data's size keeps the page (and the one text it comes back as,
          // which PostgreSQL caps at 1 GB) within maxBytes, however large the events are. A small
          // uncompressed value's text is at most 6 times its stored size (a character JSON writes
          // as \u0001 is one byte stored), which bounds it without converting it; others are measured.
          await this.db.query<{ page: string }>(
            `SELECT coalesce(json_agg(json_build_array(version, event_id, type, data, metadata, floor(extract(epoch FROM created_at) * 1000)::bigint)
                                      ORDER BY version), '[]')::text AS page
             FROM (SELECT version, event_id, type, data, metadata, created_at,
                          sum(CASE WHEN pg_column_compression(data) IS NULL AND pg_column_size(data) <= 8192 THEN 6 * pg_column_size(data)
                                   ELSE octet_length(data::text) END) OVER (ORDER BY version) AS running
                   FROM (SELECT version, event_id, type, data, metadata, created_at FROM events
                         WHERE stream_id = $1 AND version >= $2 AND version < $2::bigint + $3::bigint ORDER BY version LIMIT $3) candidates) page
             WHERE version = $2 OR running <= $4`,
            [streamId, from, maxCount, maxBytes],
            { name: 'keeper_read_stream_bytes' },
          );
    const page = JSON.parse(rows[0]?.page ?? '[]') as Array<[number, string, string, unknown, Record<string, unknown>, number]>;
    const events = new Array<StoredEvent>(page.length);
    for (let i = 0; i < page.length; i++) {
      const [version, id, type, data, metadata, createdAt] = page[i]!;
      events[i] = { id, type, data, metadata, streamId, version, createdAt: new Date(createdAt) };
    }
    return events;
  }

  async readAll(after: LogPosition, maxCount: number, options: ReadAllOptions = {}): Promise<LoggedEvent[]> {
    return readAllWith(this.db, after, maxCount, options.types);
  }

  /** Committed events past `after` that a gap-safe read does not return yet (the read stops at the snapshot's xmin). */
  async heldBackAfter(after: LogPosition): Promise<boolean> {
    const rows = await this.db.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)) AS held`,
      [after.commit.toString(), after.prepare.toString()],
      { name: 'keeper_held_back_after' },
    );
    return rows[0]?.held === true;
  }

  async streamInfo(streamId: string): Promise<StreamInfo> {
    const rows = await this.db.query<{ version: number; updated_at: Date }>(
      `SELECT version, updated_at FROM streams WHERE stream_id = $1`,
      [streamId],
      { name: 'keeper_stream_info' },
    );
    const row = rows[0];
    return row ? { version: row.version, updatedAt: row.updated_at } : { version: 0, updatedAt: null };
  }

  onAppended(listener: (streamId: string, version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The claim failed, so nothing was written: either this is a retry of an append that already
   * landed, or a conflict. Read after the statement (a fresh snapshot, which sees whatever
   * commit made the claim fail), in one query.
   */
  private async retryOrConflict(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    const rows = await this.db.query<{ current: number | null; event_ids: string[] | null }>(
      `SELECT (SELECT version FROM streams WHERE stream_id = $1) AS current,
              ARRAY(SELECT event_id::text FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT $3) AS event_ids`,
      [streamId, expectedVersion, events.length],
      { name: 'keeper_append_check' },
    );
    const landed = rows[0]?.event_ids ?? [];
    // event_id is a uuid column, read back in PostgreSQL's lower-case text form.
    if (landed.length === events.length && landed.every((id, index) => id === events[index]!.id.toLowerCase())) {
      return { nextVersion: expectedVersion + events.length, duplicate: true };
    }
    throw new WrongExpectedVersion(streamId, expectedVersion, rows[0]?.current ?? 0);
  }
}

/**
 * Reads the global log in (transaction id, position) order, stopping before the oldest
 * transaction still in flight: anything that commits later sorts after what was read.
 *
 * A tailer that acts on a few event types only (the image job relay) passes them as `payloadOf`:
 * every event still comes back, so its position can move past them, but the others come without
 * data and metadata (null), which the database then need not send nor the driver parse.
 */
async function readAllWith(sql: SqlExecutor, after: LogPosition, maxCount: number, payloadOf?: readonly string[]): Promise<LoggedEvent[]> {
  const payload = (column: string) => (payloadOf ? `CASE WHEN type = ANY($4::text[]) THEN ${column} END` : column);
  // The page comes back as one JSON text, as readStream's does: one JSON.parse instead of the
  // driver parsing two JSON documents and a timestamp per row (what limits a projector's batch).
  const rows = await sql.query<{ page: string }>(
    `SELECT coalesce(json_agg(json_build_array(transaction_id::text, global_position::text, stream_id, version, event_id, type,
                                               ${payload('data')}, ${payload('metadata')}, floor(extract(epoch FROM created_at) * 1000)::bigint)
                              ORDER BY transaction_id, global_position), '[]')::text AS page
     FROM (SELECT * FROM events
           WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
             AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY transaction_id, global_position
           LIMIT $3) page`,
    payloadOf ? [after.commit.toString(), after.prepare.toString(), maxCount, payloadOf] : [after.commit.toString(), after.prepare.toString(), maxCount],
    { name: payloadOf ? 'keeper_read_all_payload_of' : 'keeper_read_all' },
  );
  const page = JSON.parse(rows[0]?.page ?? '[]') as Array<[string, string, string, number, string, string, unknown, Record<string, unknown>, number]>;
  const events = new Array<LoggedEvent>(page.length);
  for (let i = 0; i < page.length; i++) {
    const [commit, prepare, streamId, version, id, type, data, metadata, createdAt] = page[i]!;
    events[i] = { id, type, data, metadata, streamId, version, createdAt: new Date(createdAt), position: { commit: BigInt(commit), prepare: BigInt(prepare) } };
  }
  return events;
}

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

function isDeadlock(error: unknown): boolean {
  return sqlState(error) === '40P01';
}
