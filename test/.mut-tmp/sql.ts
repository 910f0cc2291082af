import type { Database, SqlExecutor } from '../../src/server/sql/database.js';
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
} from '../../src/server/eventstore/port.js';

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
    const result = await this.db.transaction(async (tx) => {
      const claimed =
        expectedVersion === 0
          ? await tx.query(
              `INSERT INTO streams (stream_id, version, updated_at) VALUES ($1, $2, now())
               ON CONFLICT (stream_id) DO NOTHING RETURNING version`,
              [streamId, nextVersion],
            )
          : await tx.query(
              `UPDATE streams SET version = $2, updated_at = now() WHERE stream_id = $1 AND version = $3 RETURNING version`,
              [streamId, nextVersion, expectedVersion],
            );
      if (claimed.length === 0) return this.retryOrConflict(tx, streamId, expectedVersion, events);

      const params: unknown[] = [];
      const rows = events.map((event, index) => {
        const base = params.length;
        params.push(streamId, expectedVersion + index + 1, event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
        return `($${base + 1}, $${base + 2}, $${base + 3}::uuid, $${base + 4}, $${base + 5}::jsonb, $${base + 6}::jsonb)`;
      });
      try {
        await tx.query(`INSERT INTO events (stream_id, version, event_id, type, data, metadata) VALUES ${rows.join(', ')}`, params);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateEventId(events.map((e) => e.id));
        throw error;
      }
      return { nextVersion, duplicate: false };
    });
    if (!result.duplicate) for (const listener of this.listeners) listener(streamId);
    return result;
  }

  async readStream(streamId: string, fromVersion: number, maxCount: number): Promise<StoredEvent[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3`,
      [streamId, Math.max(1, fromVersion), maxCount],
    );
    return rows.map(toStoredEvent);
  }

  async readAll(after: LogPosition, maxCount: number): Promise<LoggedEvent[]> {
    return readAllWith(this.db, after, maxCount);
  }

  async streamInfo(streamId: string): Promise<StreamInfo> {
    const rows = await this.db.query<{ version: number; updated_at: Date }>(
      `SELECT version, updated_at FROM streams WHERE stream_id = $1`,
      [streamId],
    );
    const row = rows[0];
    return row ? { version: row.version, updatedAt: row.updated_at } : { version: 0, updatedAt: null };
  }

  onAppended(listener: (streamId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The stream moved on: either this is a retry of an append that already landed, or a conflict. */
  private async retryOrConflict(tx: SqlExecutor, streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    const rows = await tx.query<{ version: number; event_id: string }>(
      `SELECT version, event_id::text AS event_id FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT $3`,
      [streamId, expectedVersion, events.length],
    );
    if (rows.length === events.length && rows.every((row, index) => row.event_id === events[index]!.id)) {
      return { nextVersion: expectedVersion + events.length, duplicate: true };
    }
    const current = await tx.query<{ version: number }>(`SELECT version FROM streams WHERE stream_id = $1`, [streamId]);
    throw new WrongExpectedVersion(streamId, expectedVersion, current[0]?.version ?? 0);
  }
}

/**
 * Reads the global log in (transaction id, position) order, stopping before the oldest
 * transaction still in flight: anything that commits later sorts after what was read.
 * Exported so the projector can read inside its own transaction.
 */
export async function readAllWith(sql: SqlExecutor, after: LogPosition, maxCount: number): Promise<LoggedEvent[]> {
  const rows = await sql.query<LoggedEventRow>(
    `SELECT transaction_id::text AS commit_position, global_position::text AS prepare_position, ${EVENT_COLUMNS}
     FROM events
     WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
     ORDER BY transaction_id, global_position
     LIMIT $3`,
    [after.commit.toString(), after.prepare.toString(), maxCount],
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
