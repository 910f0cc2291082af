import type { Database, SqlExecutor } from '../sql/database.js';
import {
  DuplicateEventId,
  WrongExpectedVersion,
  type AppendResult,
  type EventStore,
  type LogPosition,
  type LoggedEvent,
  type NewEvent,
  type StoredEvent,
  type StreamInfo,
} from './port.js';

interface EventRow {
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  created_at: Date;
}

interface LoggedEventRow extends EventRow {
  commit_position: string;
  prepare_position: string;
}

const EVENT_COLUMNS = `stream_id, version, event_id::text AS event_id, type, data, metadata, created_at`;

/**
 * Appends of up to this many events run as prepared statements (one per size and claim form, so
 * at most twice this many per connection); a larger append, rarer, is planned each time.
 */
const PREPARED_APPEND_MAX = 32;

/**
 * The event store on PostgreSQL, through the SQL port, so the same statements run on `pg` and on
 * PGlite. The stream row is a compare-and-set guard: an append updates it only at the expected
 * version, which also holds its row lock until commit and so serialises appends to one stream.
 */
export class SqlEventStore implements EventStore {
  private readonly listeners = new Set<(streamId: string) => void>();

  constructor(private readonly db: Database) {}

  async append(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    if (events.length === 0) {
      const info = await this.streamInfo(streamId);
      if (info.version !== expectedVersion) throw new WrongExpectedVersion(streamId, expectedVersion, info.version);
      return { nextVersion: expectedVersion, duplicate: false };
    }
    const nextVersion = expectedVersion + events.length;
    // One statement claims the stream (the compare-and-set) and inserts the events only if the
    // claim succeeded: a round trip per append instead of one per step.
    const params: unknown[] = [streamId, nextVersion, expectedVersion];
    const rows = events.map((event, index) => {
      const base = params.length;
      params.push(expectedVersion + index + 1, event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
      return `($1, $${base + 1}::integer, $${base + 2}::uuid, $${base + 3}::text, $${base + 4}::jsonb, $${base + 5}::jsonb)`;
    });
    // Both forms use $3 so that its type is known ($3 = 0 holds for the insert).
    const claim =
      expectedVersion === 0
        ? `INSERT INTO streams (stream_id, version, updated_at) SELECT $1, $2, now() WHERE $3::integer = 0
           ON CONFLICT (stream_id) DO NOTHING RETURNING version`
        : `UPDATE streams SET version = $2, updated_at = now() WHERE stream_id = $1 AND version = $3 RETURNING version`;
    // Autocommit: a single statement is atomic on its own (the claim and the insert commit or
    // roll back together), so BEGIN and COMMIT would only add two round trips. The log stays
    // gap-safe: the statement's events carry its transaction id like any other transaction's.
    let appended: Array<{ count: number }>;
    try {
      appended = await this.db.query<{ count: number }>(
        `WITH claimed AS (${claim}),
         inserted AS (
           INSERT INTO events (stream_id, version, event_id, type, data, metadata)
           SELECT * FROM (VALUES ${rows.join(', ')}) AS new_events WHERE EXISTS (SELECT 1 FROM claimed)
           RETURNING 1
         )
         SELECT count(*)::integer AS count FROM inserted`,
        params,
        // The text depends only on the claim form and the number of events.
        events.length <= PREPARED_APPEND_MAX ? { name: `keeper_append_${expectedVersion === 0 ? 'new' : 'next'}_${events.length}` } : undefined,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateEventId(events.map((e) => e.id));
      throw error;
    }
    const result: AppendResult =
      appended[0]?.count === events.length ? { nextVersion, duplicate: false } : await this.retryOrConflict(streamId, expectedVersion, events);
    if (!result.duplicate) {
      for (const listener of this.listeners) {
        // The events are committed: a failing listener must not turn the append into an error.
        try {
          listener(streamId);
        } catch {
          // Listeners only wake tailers, which also poll; nothing is lost.
        }
      }
    }
    return result;
  }

  async readStream(streamId: string, fromVersion: number, maxCount: number): Promise<StoredEvent[]> {
    // Versions are dense (1..n), so the upper bound is implied by the LIMIT; stating it bounds the
    // rows the query touches whatever plan PostgreSQL picks (with stale statistics, e.g. right
    // after a bulk append, it may otherwise fetch and sort the rest of the stream for every page).
    const from = Math.max(1, fromVersion);
    // The page comes back as one JSON text: a single JSON.parse in V8 costs the reader far less
    // than the driver parsing each row's columns (two JSON documents and a timestamp per event),
    // which is what limits a replay of millions of events.
    const rows = await this.db.query<{ page: string }>(
      `SELECT coalesce(json_agg(json_build_array(version, event_id, type, data, metadata, floor(extract(epoch FROM created_at) * 1000)::bigint)
                                ORDER BY version), '[]')::text AS page
       FROM (SELECT version, event_id, type, data, metadata, created_at FROM events
             WHERE stream_id = $1 AND version >= $2 AND version < $2::bigint + $3::bigint ORDER BY version LIMIT $3) page`,
      [streamId, from, maxCount],
      { name: 'keeper_read_stream_page' },
    );
    const page = JSON.parse(rows[0]?.page ?? '[]') as Array<[number, string, string, unknown, Record<string, unknown>, number]>;
    const events = new Array<StoredEvent>(page.length);
    for (let i = 0; i < page.length; i++) {
      const [version, id, type, data, metadata, createdAt] = page[i]!;
      events[i] = { id, type, data, metadata, streamId, version, createdAt: new Date(createdAt) };
    }
    return events;
  }

  async readAll(after: LogPosition, maxCount: number): Promise<LoggedEvent[]> {
    return readAllWith(this.db, after, maxCount);
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

  onAppended(listener: (streamId: string) => void): () => void {
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
 * Exported so the projector can read inside its own transaction.
 *
 * A tailer that acts on a few event types only (the image job relay) passes them as `payloadOf`:
 * every event still comes back, so its position can move past them, but the others come without
 * data and metadata (null), which the database then need not send nor the driver parse.
 */
export async function readAllWith(sql: SqlExecutor, after: LogPosition, maxCount: number, payloadOf?: readonly string[]): Promise<LoggedEvent[]> {
  const columns = payloadOf
    ? `stream_id, version, event_id::text AS event_id, type, CASE WHEN type = ANY($4::text[]) THEN data END AS data,
       CASE WHEN type = ANY($4::text[]) THEN metadata END AS metadata, created_at`
    : EVENT_COLUMNS;
  const rows = await sql.query<LoggedEventRow>(
    `SELECT transaction_id::text AS commit_position, global_position::text AS prepare_position, ${columns}
     FROM events
     WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY transaction_id, global_position
     LIMIT $3`,
    payloadOf ? [after.commit.toString(), after.prepare.toString(), maxCount, payloadOf] : [after.commit.toString(), after.prepare.toString(), maxCount],
    { name: payloadOf ? 'keeper_read_all_payload_of' : 'keeper_read_all' },
  );
  return rows.map((row) => ({
    ...toStoredEvent(row),
    position: { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) },
  }));
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    streamId: row.stream_id,
    version: row.version,
    createdAt: row.created_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}
