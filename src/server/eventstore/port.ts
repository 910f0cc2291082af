/**
 * The event store port: one versioned stream per user plus the global log the projector tails.
 * Version = number of events in the stream (first event is 1, an empty stream is 0).
 */
export interface NewEvent {
  /**
   * Unique within its stream (another stream may use the same id: users learn nothing of each
   * other's ids); the client's mutation id, so a retried append is recognised.
   */
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export interface StoredEvent extends NewEvent {
  streamId: string;
  version: number;
  createdAt: Date;
}

/**
 * Where an event sits in the global log. For PostgreSQL `commit` is the writing transaction's id
 * and `prepare` the sequence position; KurrentDB's $all position has the same two parts.
 */
export interface LogPosition {
  commit: bigint;
  prepare: bigint;
}

export const LOG_START: LogPosition = { commit: 0n, prepare: 0n };

export interface LoggedEvent extends StoredEvent {
  position: LogPosition;
}

export interface AppendResult {
  nextVersion: number;
  /** True when exactly these event ids were already appended at this expected version. */
  duplicate: boolean;
}

export interface ReadAllOptions {
  /**
   * Only events of these types come with their data and metadata; the others come as their
   * position, stream, version, id and type alone (data null, metadata empty), which the store
   * then need not send nor parse. Every event still comes back, so a tailer acting on a few
   * types (the image job relay) moves its checkpoint past the rest.
   */
  types?: readonly string[];
}

export interface StreamInfo {
  version: number;
  /** When the last event was appended; null for an empty stream. */
  updatedAt: Date | null;
}

export class WrongExpectedVersion extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`stream ${streamId} is at version ${currentVersion}, not the expected ${expectedVersion}`);
    this.name = 'WrongExpectedVersion';
  }
}

/** The event store cannot be reached for now (a separate event store: KurrentDB); retrying is safe. */
export class EventStoreUnavailable extends Error {
  readonly code = 'EVENTSTORE_UNAVAILABLE';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`the event store is unavailable for now: ${reason}`, options);
    this.name = 'EventStoreUnavailable';
  }
}

/** An event id the stream already holds, other than in a retry of the same append. */
export class DuplicateEventId extends Error {
  constructor(readonly eventIds: string[]) {
    super(`an event id of this append is already used elsewhere in its stream (${eventIds.join(', ')})`);
    this.name = 'DuplicateEventId';
  }
}

/** What an adapter promises beyond what every adapter does, said rather than silently weakened. */
export interface EventStoreGuarantees {
  /**
   * An event id already used anywhere in a stream is refused in any later append to it
   * (DuplicateEventId). Without it, a retry at the same expected version is still recognised as
   * a duplicate, but an old id appended again at a new version lands as a new event.
   */
  eventIdsUniqueInStream: boolean;
}

export interface EventStore {
  readonly guarantees: EventStoreGuarantees;
  /** Appends all events or none, if the stream is at `expectedVersion`. */
  append(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult>;
  /**
   * Events with version >= fromVersion, in order, at most maxCount; with maxBytes, never more than
   * fit in that many bytes of event data (as JSON text), but always the first one.
   */
  readStream(streamId: string, fromVersion: number, maxCount: number, maxBytes?: number): Promise<StoredEvent[]>;
  /** Events after `after` in global order, never past a transaction that may still commit. */
  readAll(after: LogPosition, maxCount: number, options?: ReadAllOptions): Promise<LoggedEvent[]>;
  /**
   * Whether events lie after `after` that readAll does not return yet because they wait behind
   * a write still in flight (a tailer that read nothing is then not caught up). A store whose
   * log never holds events back answers false.
   */
  heldBackAfter(after: LogPosition): Promise<boolean>;
  streamInfo(streamId: string): Promise<StreamInfo>;
  /**
   * Called after every append made through this instance commits, with the stream's new version
   * (wakes in-process tailers, and publishes the version to watchers).
   */
  onAppended(listener: (streamId: string, version: number) => void): () => void;
}
