import type { AllStreamResolvedEvent, JSONType, KurrentDBClient, ResolvedEvent } from '@kurrent/kurrentdb-client';

/** The KurrentDB client, loaded when a store connects: it takes about a second to load, and most deployments never need it. */
type Kurrent = typeof import('@kurrent/kurrentdb-client');
import {
  DuplicateEventId,
  EventStoreUnavailable,
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

/**
 * The event store on KurrentDB (the maintained EventStoreDB). Keeper's versions count from 1 and
 * KurrentDB's revisions from 0: version = revision + 1, kept inside this file.
 *
 * What differs from the SQL store, and how it shows:
 * - KurrentDB recognises a retried append by its event ids only when the expected revision is
 *   given and only while the append sits in its recent-events cache. Keeper promises more (a
 *   retried push answers `duplicate` however late it comes), so an append that meets a stream
 *   already past its expected version reads the events after that version and compares ids, as
 *   the SQL store does. A retry racing its own first attempt may still be absorbed by KurrentDB's
 *   cache and answer as a fresh append: the events are stored once either way.
 * - Event ids are not unique within a stream: an id appended again at a later version lands as a
 *   new event (`guarantees.eventIdsUniqueInStream` is false; the contract suite reads it).
 * - Its $all log holds committed events only, in commit order: nothing is ever held back.
 */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

export class KurrentEventStore implements EventStore {
  readonly guarantees = { eventIdsUniqueInStream: false };
  private readonly listeners = new Set<(streamId: string, version: number) => void>();

  private constructor(
    private readonly k: Kurrent,
    private readonly client: KurrentDBClient,
  ) {}

  /** `kurrentdb://host:2113?tls=false` (or `esdb://...`): the client connects on first use. */
  static async connect(url: string): Promise<KurrentEventStore> {
    const k = await import('@kurrent/kurrentdb-client');
    return new KurrentEventStore(k, k.KurrentDBClient.connectionString(url));
  }

  async append(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    return this.unavailableAsTransient(() => this.appendNow(streamId, expectedVersion, events));
  }

  private async appendNow(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    const ids = events.map((event) => event.id.toLowerCase());
    const repeated = ids.filter((id, index) => ids.indexOf(id) !== index);
    if (repeated.length > 0) throw new DuplicateEventId(repeated);
    if (events.length === 0) {
      const info = await this.streamInfoNow(streamId);
      if (info.version !== expectedVersion) throw new WrongExpectedVersion(streamId, expectedVersion, info.version);
      return { nextVersion: expectedVersion, duplicate: false };
    }
    let nextVersion: number;
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((event) => this.k.jsonEvent({ id: event.id.toLowerCase(), type: event.type, data: event.data as JSONType, metadata: event.metadata as JSONType })),
        { streamState: expectedVersion === 0 ? this.k.NO_STREAM : BigInt(expectedVersion - 1) },
      );
      nextVersion = Number(result.nextExpectedRevision) + 1;
    } catch (error) {
      if (!(error instanceof this.k.WrongExpectedVersionError)) throw error;
      return this.retryOrConflict(streamId, expectedVersion, ids);
    }
    for (const listener of this.listeners) listener(streamId, nextVersion);
    return { nextVersion, duplicate: false };
  }

  /** The stream is not where the append expected it: the same events already after that version are a retry. */
  private async retryOrConflict(streamId: string, expectedVersion: number, ids: string[]): Promise<AppendResult> {
    const landed = await this.readStreamNow(streamId, expectedVersion + 1, ids.length);
    if (landed.length === ids.length && landed.every((event, index) => event.id.toLowerCase() === ids[index])) {
      return { nextVersion: expectedVersion + ids.length, duplicate: true };
    }
    throw new WrongExpectedVersion(streamId, expectedVersion, (await this.streamInfoNow(streamId)).version);
  }

  async readStream(streamId: string, fromVersion: number, maxCount: number, maxBytes?: number): Promise<StoredEvent[]> {
    return this.unavailableAsTransient(() => this.readStreamNow(streamId, fromVersion, maxCount, maxBytes));
  }

  private async readStreamNow(streamId: string, fromVersion: number, maxCount: number, maxBytes?: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    let bytes = 0;
    try {
      for await (const resolved of this.client.readStream(streamId, { fromRevision: BigInt(Math.max(fromVersion, 1) - 1), maxCount: BigInt(maxCount), direction: this.k.FORWARDS })) {
        const event = storedOf(resolved);
        if (!event) continue;
        if (maxBytes !== undefined) {
          bytes += JSON.stringify(event.data).length;
          if (out.length > 0 && bytes > maxBytes) break;
        }
        out.push(event);
      }
    } catch (error) {
      if (error instanceof this.k.StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }

  async readAll(after: LogPosition, maxCount: number, options: ReadAllOptions = {}): Promise<LoggedEvent[]> {
    return this.unavailableAsTransient(() => this.readAllNow(after, maxCount, options));
  }

  private async readAllNow(after: LogPosition, maxCount: number, options: ReadAllOptions = {}): Promise<LoggedEvent[]> {
    const fromStart = after.commit === 0n && after.prepare === 0n;
    const out: LoggedEvent[] = [];
    // A read from a position may start at that very event: one more is asked for and the one at `after` passed over.
    for await (const resolved of this.client.readAll({ fromPosition: fromStart ? this.k.START : after, maxCount: BigInt(maxCount + 1), direction: this.k.FORWARDS, filter: this.k.excludeSystemEvents() })) {
      const logged = loggedOf(resolved, options.types);
      if (!logged || !isAfter(logged.position, after)) continue;
      out.push(logged);
      if (out.length === maxCount) break;
    }
    return out;
  }

  /** $all holds committed events only: nothing waits behind a write in flight. */
  async heldBackAfter(_after: LogPosition): Promise<boolean> {
    return false;
  }

  async streamInfo(streamId: string): Promise<StreamInfo> {
    return this.unavailableAsTransient(() => this.streamInfoNow(streamId));
  }

  private async streamInfoNow(streamId: string): Promise<StreamInfo> {
    try {
      for await (const resolved of this.client.readStream(streamId, { fromRevision: 'end', maxCount: 1n, direction: this.k.BACKWARDS })) {
        const event = resolved.event;
        if (event) return { version: Number(event.revision) + 1, updatedAt: event.created };
      }
    } catch (error) {
      if (error instanceof this.k.StreamNotFoundError) return { version: 0, updatedAt: null };
      throw error;
    }
    return { version: 0, updatedAt: null };
  }

  onAppended(listener: (streamId: string, version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /** KurrentDB out of reach (down, no leader, too slow) is a fault a retry gets past: said as one, as a lost database connection is. */
  private async unavailableAsTransient<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      // (Appends can fail with the bare gRPC status rather than the client's error classes.)
      const status = (error as { code?: unknown } | undefined)?.code;
      if (error instanceof this.k.UnavailableError || error instanceof this.k.DeadlineExceededError || error instanceof this.k.NotLeaderError || status === GRPC_UNAVAILABLE || status === GRPC_DEADLINE_EXCEEDED) {
        throw new EventStoreUnavailable(error instanceof Error ? error.constructor.name : 'unreachable', { cause: error });
      }
      throw error;
    }
  }
}

function isAfter(position: LogPosition, after: LogPosition): boolean {
  return position.commit > after.commit || (position.commit === after.commit && position.prepare > after.prepare);
}

function storedOf(resolved: ResolvedEvent): StoredEvent | undefined {
  const event = resolved.event;
  if (!event || !event.isJson) return undefined;
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: (event.metadata ?? {}) as Record<string, unknown>,
    streamId: event.streamId,
    version: Number(event.revision) + 1,
    createdAt: event.created,
  };
}

function loggedOf(resolved: AllStreamResolvedEvent, types: readonly string[] | undefined): LoggedEvent | undefined {
  const event = resolved.event;
  if (!event || !event.isJson) return undefined;
  const withPayload = !types || types.includes(event.type);
  return {
    id: event.id,
    type: event.type,
    data: withPayload ? event.data : null,
    metadata: withPayload ? ((event.metadata ?? {}) as Record<string, unknown>) : {},
    streamId: event.streamId,
    version: Number(event.revision) + 1,
    createdAt: event.created,
    position: { commit: event.position.commit, prepare: event.position.prepare },
  };
}
