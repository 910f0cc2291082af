import { evolve, type RecordState } from './decider.js';
import { isRecordEvent, type VaultEvent } from './events.js';
import { evolveImage, type ImageState } from './images.js';
import type { VaultRecord } from './record.js';

/**
 * A user's whole vault folded from the stream with `evolve`. The map is mutated in place
 * because replaying 100,000 events must not copy the vault on every event; each record's
 * state is still produced by the pure `evolve`.
 */
export class VaultState {
  readonly records = new Map<string, RecordState>();
  /** Every image ever attached, detached ones included (their history stays readable). */
  readonly images = new Map<string, ImageState>();
  version = 0;
  lastModifiedAt = 0;
  /** The wrapped vault key when the user turned encryption on; null otherwise. */
  vaultKey: { keyId: string; envelope: string } | null = null;

  /** A replica started from a read-model snapshot (List) instead of the whole log. */
  static fromSnapshot(snapshot: {
    version: number;
    lastModifiedAt: number;
    records: Iterable<RecordState>;
    images?: Iterable<ImageState> | undefined;
    vaultKey: { keyId: string; envelope: string } | null;
  }): VaultState {
    const state = new VaultState();
    for (const record of snapshot.records) state.records.set(record.id, record);
    for (const image of snapshot.images ?? []) state.images.set(image.id, image);
    state.version = snapshot.version;
    state.lastModifiedAt = snapshot.lastModifiedAt;
    state.vaultKey = snapshot.vaultKey;
    return state;
  }

  /** Applies the next event of the stream; refuses a gap or a repeat, which would mean lost data. */
  apply(event: VaultEvent): void {
    if (event.version !== this.version + 1) {
      throw new Error(`event version ${event.version} does not follow version ${this.version}`);
    }
    if (event.type === 'VaultKeySet') {
      this.vaultKey = { keyId: event.data.keyId, envelope: event.data.envelope };
    } else if (isRecordEvent(event)) {
      const next = evolve(this.records.get(event.data.recordId), event);
      if (next) this.records.set(event.data.recordId, next);
    } else {
      const next = evolveImage(this.images.get(event.data.imageId), event);
      if (next) this.images.set(event.data.imageId, next);
    }
    this.version = event.version;
    this.lastModifiedAt = event.metadata.at;
  }

  applyAll(events: Iterable<VaultEvent>): this {
    for (const event of events) this.apply(event);
    return this;
  }

  get(recordId: string): RecordState | undefined {
    return this.records.get(recordId);
  }

  /** The images attached to a record now, oldest first. */
  imagesOf(recordId: string): ImageState[] {
    const out: ImageState[] = [];
    for (const image of this.images.values()) if (image.recordId === recordId && image.detachedAt === null) out.push(image);
    return out;
  }

  /** Records that are not deleted, oldest first. */
  live(): VaultRecord[] {
    const out: VaultRecord[] = [];
    for (const state of this.records.values()) {
      if (state.deletedAt === null) out.push(withoutTombstone(state));
    }
    return out;
  }
}

/**
 * States are never changed in place (evolve makes new ones), so each has one record view for as
 * long as it lives: readers listing a vault again and again get the same objects, not copies,
 * and can keep what they derive from them (a list entry, say) beside them.
 */
const recordOf = new WeakMap<RecordState, VaultRecord>();

export function withoutTombstone(state: RecordState): VaultRecord {
  let record = recordOf.get(state);
  if (!record) {
    const { deletedAt: _deletedAt, ...rest } = state;
    record = rest;
    recordOf.set(state, record);
  }
  return record;
}

export function streamIdForUser(userId: string): string {
  return `user-${userId}`;
}

const USER_STREAM = /^user-([0-9a-f-]{36})$/;

/** The user a stream belongs to, or undefined for a stream that is not a user's vault. */
export function userIdOfStream(streamId: string): string | undefined {
  return USER_STREAM.exec(streamId)?.[1];
}
