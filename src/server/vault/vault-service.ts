import { decide, decideVaultKey, evolve, type RecordState } from '../../domain/decider.js';
import type { VaultCommand } from '../../domain/commands.js';
import type { RecordEvent, VaultEvent, VaultEventData } from '../../domain/events.js';
import { DomainError } from '../../domain/errors.js';
import { streamIdForUser, type VaultState } from '../../domain/vault-state.js';
import type { Database } from '../sql/database.js';
import { DuplicateEventId, WrongExpectedVersion, type AppendResult, type EventStore } from '../eventstore/port.js';
import { readImagesPage, readRecordsPage, readSnapshot, type SnapshotHead, type VaultSnapshot } from '../../read-model/read-model.js';
import type { VaultRecord } from '../../domain/record.js';
import type { ImageState } from '../../domain/images.js';
import { UserStates } from './user-states.js';

export interface PushInput {
  expectedVersion: number;
  clientId: string;
  commands: VaultCommand[];
}

/** What `record` did: appended `event`, or nothing (already recorded, or nothing to record). */
export interface RecordOutcome {
  version: number;
  event: VaultEvent | null;
  duplicate: boolean;
}

/** How many times `record` decides again after another replica appended first. */
const RECORD_ATTEMPTS = 8;

export type PushOutcome =
  | { kind: 'accepted'; version: number; duplicate: boolean }
  | { kind: 'conflict'; currentVersion: number };

/** A push the domain refuses; names the mutation so the client knows which one. */
export class MutationRejected extends Error {
  constructor(
    readonly index: number,
    readonly mutationId: string,
    readonly reason: DomainError,
  ) {
    super(`mutation ${index} (${mutationId}): ${reason.message}`);
    this.name = 'MutationRejected';
  }
}

/** Events read from the store at once, at most (fewer when they are large: see READ_BYTES). */
const PULL_PAGE = 1000;
/** Records or images read from the read model at once, at most. */
const LIST_PAGE = 1000;
/**
 * Bytes of event data or record content read from the database at once: what a call holds in
 * memory is about this much whatever the size of the vault (plus one record or event, which may
 * be larger alone).
 */
const READ_BYTES = 4 * 1024 * 1024;

/** The vault changed between two pages of a List: the pages sent would not make one snapshot. */
export class SnapshotMoved extends Error {
  constructor() {
    super('the vault changed while it was being listed; list again');
    this.name = 'SnapshotMoved';
  }
}

/** A part of the snapshot List sends: the head (in every part) and a page of records or images. */
export type SnapshotPart = { head: SnapshotHead } & ({ records: VaultRecord[] } | { images: ImageState[] });

/**
 * Rows asked for by a listing's or a pull's first read; later reads double it up to the page.
 * Most vaults are read whole by the first (the byte budget still bounds what is held): every
 * further statement is a round trip to the database that a data request waits for, and under
 * image load each waits longer (bench priority: 32 had a 100-record List or Pull take 3-4
 * statements).
 */
const FIRST_READ_COUNT = 256;

/**
 * How many rows to ask for next: one more than the last read returned when its byte budget cut it
 * short (the database measures every row it is asked for, so large rows are not asked for only to
 * be dropped), twice as many up to the page size otherwise.
 */
function nextCount(asked: number, returned: number, most: number): number {
  return returned < asked ? returned + 1 : Math.min(most, asked * 2);
}

/** The vault use cases, transport-free; every call is scoped to the authenticated user's stream. */
export class VaultService {
  private readonly states: UserStates;

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly clock: () => number = Date.now,
  ) {
    this.states = new UserStates(store);
  }

  async status(userId: string): Promise<{ version: number; lastModifiedAt: number }> {
    const info = await this.store.streamInfo(streamIdForUser(userId));
    return { version: info.version, lastModifiedAt: info.updatedAt?.getTime() ?? 0 };
  }

  list(userId: string): Promise<VaultSnapshot> {
    return readSnapshot(this.db, userId);
  }

  /**
   * The read model's snapshot in parts (records, then images), each read on its own so a large
   * vault is never held whole. Every part is read with the user's version; when that moves between
   * parts, they would not make one snapshot and SnapshotMoved ends the listing.
   */
  async *listParts(userId: string): AsyncGenerator<SnapshotPart> {
    let first: SnapshotHead | undefined;
    const sameSnapshot = (head: SnapshotHead) => {
      first ??= head;
      if (head.version !== first.version) throw new SnapshotMoved();
    };
    let after: string | null = null;
    let count = FIRST_READ_COUNT;
    for (;;) {
      const page = await readRecordsPage(this.db, userId, after, count, READ_BYTES);
      sameSnapshot(page.head);
      if (page.records.length > 0 || after === null) yield { head: page.head, records: page.records };
      if (page.complete || page.records.length === 0) break;
      after = page.records[page.records.length - 1]!.id;
      count = nextCount(count, page.records.length, LIST_PAGE);
    }
    after = null;
    for (;;) {
      const page = await readImagesPage(this.db, userId, after, LIST_PAGE);
      sameSnapshot(page.head);
      if (page.images.length > 0) yield { head: page.head, images: page.images };
      if (page.complete || page.images.length === 0) break;
      after = page.images[page.images.length - 1]!.id;
    }
  }

  /** Streams events after `sinceVersion` up to the version current when the pull began. */
  async pull(userId: string, sinceVersion: number, send: (events: VaultEventWire[], toVersion: number) => Promise<void>): Promise<number> {
    const stream = streamIdForUser(userId);
    const { version: toVersion } = await this.store.streamInfo(stream);
    let next = sinceVersion + 1;
    let count = FIRST_READ_COUNT;
    while (next <= toVersion) {
      const asked = Math.min(count, toVersion - next + 1);
      const events = await this.store.readStream(stream, next, asked, READ_BYTES);
      if (events.length === 0) break;
      count = nextCount(asked, events.length, PULL_PAGE);
      await send(
        events.map((event) => ({
          id: event.id,
          type: event.type,
          version: event.version,
          data: event.data,
          metadata: event.metadata,
        })),
        toVersion,
      );
      next = events[events.length - 1]!.version + 1;
    }
    return toVersion;
  }

  async push(userId: string, input: PushInput): Promise<PushOutcome> {
    const stream = streamIdForUser(userId);
    return this.states.withState(
      userId,
      async (state) => {
        if (state.version !== input.expectedVersion) {
          if (input.expectedVersion < state.version && (await this.isRetry(stream, input))) {
            return { kind: 'accepted', version: input.expectedVersion + input.commands.length, duplicate: true };
          }
          return { kind: 'conflict', currentVersion: state.version };
        }
        let events: VaultEvent[];
        try {
          events = this.decideAll(state, input);
        } catch (error) {
          // The cached state may be behind the stream (another replica appended): then the push
          // is a conflict, and deciding against the stream's real state is the client's next step.
          if (error instanceof MutationRejected) {
            const { version } = await this.store.streamInfo(stream);
            if (version !== input.expectedVersion) return { kind: 'conflict', currentVersion: version };
          }
          throw error;
        }
        let appended: AppendResult;
        try {
          appended = await this.store.append(
            stream,
            input.expectedVersion,
            events.map((event) => ({ id: event.id, type: event.type, data: event.data, metadata: { ...event.metadata } })),
          );
        } catch (error) {
          if (error instanceof WrongExpectedVersion) return { kind: 'conflict', currentVersion: error.currentVersion };
          throw error;
        }
        // A retry whose events landed (through another replica) while this state was behind:
        // nothing was appended, and the state catches up on its next use.
        if (appended.duplicate) return { kind: 'accepted', version: appended.nextVersion, duplicate: true };
        state.applyAll(events);
        return { kind: 'accepted', version: state.version, duplicate: false };
      },
      // A cached state at the expected version is used as is: the append checks the version.
      { assumeCurrentAt: input.expectedVersion },
    );
  }

  /** Runs `fn` with the user's current state (caught up to the stream), serialised with pushes. */
  withState<T>(userId: string, fn: (state: VaultState) => T | Promise<T>): Promise<T> {
    return this.states.withState(userId, async (state) => fn(state));
  }

  /**
   * Appends an event the server decides itself (an uploaded image attached, renditions made),
   * against the user's current state under the same per-user lock as pushes. When another replica
   * appended first, the decision is made again on the newer state. `decide` answers null when
   * there is nothing to record and 'duplicate' when the fact is already recorded. The event id is
   * derived from the fact by the caller, so recording it twice appends it once.
   */
  async record(
    userId: string,
    eventId: string,
    clientId: string,
    decide: (state: VaultState) => VaultEventData | null | 'duplicate',
  ): Promise<RecordOutcome> {
    const stream = streamIdForUser(userId);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.states.withState(userId, async (state) => {
          const decided = decide(state);
          if (decided === null || decided === 'duplicate') return { version: state.version, event: null, duplicate: decided === 'duplicate' };
          const recordId = 'recordId' in decided.data ? decided.data.recordId : '';
          const event = {
            ...decided,
            id: eventId,
            version: state.version + 1,
            metadata: { mutationId: eventId, recordId, clientId, at: this.clock() },
          } as VaultEvent;
          const appended = await this.store.append(stream, state.version, [
            { id: event.id, type: event.type, data: event.data, metadata: { ...event.metadata } },
          ]);
          if (appended.duplicate) return { version: appended.nextVersion, event: null, duplicate: true };
          state.apply(event);
          return { version: state.version, event, duplicate: false };
        });
      } catch (error) {
        // The failed call dropped the cached state, so the next attempt decides on the stream as it is.
        if (error instanceof WrongExpectedVersion && attempt < RECORD_ATTEMPTS) continue;
        if (error instanceof DuplicateEventId) {
          const { version } = await this.store.streamInfo(stream);
          return { version, event: null, duplicate: true };
        }
        throw error;
      }
    }
  }

  /** A retried push whose mutations already landed right after its expected version. */
  private async isRetry(stream: string, input: PushInput): Promise<boolean> {
    const landed = await this.store.readStream(stream, input.expectedVersion + 1, input.commands.length);
    return landed.length === input.commands.length && landed.every((event, index) => event.id === input.commands[index]!.mutationId);
  }

  private decideAll(state: VaultState, input: PushInput): VaultEvent[] {
    const at = this.clock();
    const touched = new Map<string, RecordState | undefined>();
    let vaultKey = state.vaultKey;
    const events: VaultEvent[] = [];
    for (let index = 0; index < input.commands.length; index++) {
      const command = input.commands[index]!;
      try {
        if (command.type === 'SetVaultKey') {
          events.push(enveloped(decideVaultKey(command, vaultKey), command.mutationId, '', input, index, at));
          vaultKey = { keyId: command.keyId, envelope: command.envelope };
          continue;
        }
        const before = touched.has(command.recordId) ? touched.get(command.recordId) : state.get(command.recordId);
        const event = enveloped(decide(command, before), command.mutationId, command.recordId, input, index, at) as RecordEvent;
        touched.set(command.recordId, evolve(before, event));
        events.push(event);
      } catch (error) {
        if (error instanceof DomainError) throw new MutationRejected(index, command.mutationId, error);
        throw error;
      }
    }
    return events;
  }
}

/** A decided event as the stream stores it: the mutation id is the event id. */
function enveloped(decided: VaultEventData, mutationId: string, recordId: string, input: PushInput, index: number, at: number): VaultEvent {
  return {
    type: decided.type,
    data: decided.data,
    id: mutationId,
    version: input.expectedVersion + index + 1,
    metadata: { mutationId, recordId, clientId: input.clientId, at },
  } as VaultEvent;
}

export interface VaultEventWire {
  id: string;
  type: string;
  version: number;
  data: unknown;
  metadata: Record<string, unknown>;
}
