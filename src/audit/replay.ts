import type { VaultEvent } from '../domain/events.js';
import { VaultState } from '../domain/vault-state.js';
import type { EventStore, StoredEvent } from '../server/eventstore/port.js';
import { readVaultEvent } from './fast-event.js';

/** All the replay needs of an event store: reading one stream by version (any adapter has it). */
export type StreamReader = Pick<EventStore, 'readStream'>;

export const REPLAY_PAGE = 2000;

/** An event in the log that the domain cannot read: a damaged or hand-edited row. */
export class UnreadableEvent extends Error {
  constructor(
    readonly streamId: string,
    readonly version: number,
    reason: string,
  ) {
    super(`event ${version} of stream ${streamId} cannot be read: ${reason}`);
    this.name = 'UnreadableEvent';
  }
}

export interface PageOptions {
  /** First version to read (default 1). */
  from?: number;
  /** Last version to read (inclusive): the stream version the caller saw, so a page never runs past it. */
  to: number;
  pageSize?: number;
}

/**
 * The events of one stream from `from` to `to`, page by page, checked by the domain's schemas.
 * The next page is asked for before the current one is handed out (versions are dense, so where it
 * starts is known), so the database works on it while the caller folds this one; memory holds at
 * most two pages whatever the stream's length.
 */
export async function* readEventPages(reader: StreamReader, streamId: string, options: PageOptions): AsyncGenerator<VaultEvent[]> {
  const pageSize = options.pageSize ?? REPLAY_PAGE;
  const to = options.to;
  let next = Math.max(1, options.from ?? 1);
  const fetch = (from: number) => reader.readStream(streamId, from, Math.min(pageSize, to - from + 1));
  let pending: Promise<StoredEvent[]> | undefined = next <= to ? fetch(next) : undefined;
  while (pending) {
    const rows = await pending;
    const after = next + rows.length;
    pending = rows.length === pageSize && after <= to ? fetch(after) : undefined;
    // A page that is asked for is never left unawaited: if this one fails, the next one's failure
    // (if any) is the same problem and must not surface as an unhandled rejection.
    pending?.catch(() => {});
    const events = new Array<VaultEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.version !== next + i) {
        throw new UnreadableEvent(streamId, next + i, `the stream has version ${row.version} where ${next + i} belongs (a gap in the log)`);
      }
      events[i] = parseStored(streamId, row);
    }
    if (events.length > 0) yield events;
    next = after;
  }
  if (next <= to) throw new UnreadableEvent(streamId, next, `the stream ends at version ${next - 1}, before version ${to} it claims to have`);
}

function parseStored(streamId: string, row: StoredEvent): VaultEvent {
  try {
    return readVaultEvent(row);
  } catch (error) {
    const reason =
      error instanceof Error && 'issues' in error
        ? (error as unknown as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')
        : error instanceof Error
          ? error.message
          : String(error);
    throw new UnreadableEvent(streamId, row.version, reason);
  }
}

/** Where a replay stops: after a version, or after the last event appended at or before a time. */
export type ReplayBound = { version: number } | { time: number };

export interface ReplayOptions {
  /** The stream's version (from streamInfo): the replay never reads past it. */
  streamVersion: number;
  until?: ReplayBound;
  pageSize?: number;
  /** Called after every page with how many events it applied. */
  onEvents?: (count: number) => void;
}

/**
 * Rebuilds a user's vault from the log with the domain's `evolve` (VaultState), up to a version or
 * a time. Events are in version order; a time bound stops at the first event appended after it
 * (the log is the order of truth even if a server's clock stepped back).
 */
export async function replayStream(reader: StreamReader, streamId: string, options: ReplayOptions): Promise<VaultState> {
  const state = new VaultState();
  const until = options.until;
  const to = until && 'version' in until ? Math.min(until.version, options.streamVersion) : options.streamVersion;
  const time = until && 'time' in until ? until.time : undefined;
  const pages = readEventPages(reader, streamId, { to, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
  for await (const page of pages) {
    let applied = 0;
    for (const event of page) {
      if (time !== undefined && event.metadata.at > time) {
        options.onEvents?.(applied);
        await pages.return(undefined);
        return state;
      }
      state.apply(event);
      applied++;
    }
    options.onEvents?.(applied);
  }
  return state;
}

/**
 * Replays several streams one after another (an audit of every user), yielding each vault in turn.
 * Two replays are in flight at a time: while this process folds one stream's pages, the database
 * is already reading the next stream's (on the other core) instead of waiting for its turn.
 */
export async function* replayStreams(
  reader: StreamReader,
  streams: ReadonlyArray<{ streamId: string; streamVersion: number }>,
  options: Omit<ReplayOptions, 'streamVersion' | 'until'> = {},
): AsyncGenerator<{ streamId: string; state: VaultState }> {
  const start = (index: number) => {
    const { streamId, streamVersion } = streams[index]!;
    const running = replayStream(reader, streamId, { ...options, streamVersion });
    running.catch(() => {});
    return running;
  };
  let current = streams.length > 0 ? start(0) : undefined;
  let next = streams.length > 1 ? start(1) : undefined;
  for (let index = 0; index < streams.length; index++) {
    const state = await current!;
    current = next;
    next = index + 2 < streams.length ? start(index + 2) : undefined;
    yield { streamId: streams[index]!.streamId, state };
  }
}
