import type { VaultKey } from '../crypto/index.js';
import type { CachePayload, ReplicaStore, StoredReplica } from './replica-store.js';

/**
 * A replica kept in process memory, for a process holding many users (the HTTP agent, the bot).
 * Nothing reaches a disk, so nothing is sealed at rest: sealed values stay sealed as they came,
 * and an encrypted vault can be opened locked (its body needs no key here).
 *
 * Records and images are immutable values (evolve returns new ones, never changes one), so they
 * are shared with the replica, not copied: a process holding a thousand users keeps each record
 * once. The lists and maps around them, which a replica does change, are copied both ways.
 */
export class MemoryReplicaStore implements ReplicaStore {
  readonly location = 'memory';
  private kept: { payload: CachePayload; encrypted: boolean } | undefined;

  async open(): Promise<StoredReplica | undefined> {
    const kept = this.kept;
    if (!kept) return undefined;
    return { encrypted: kept.encrypted, vaultKey: kept.payload.vaultKey, readableLocked: true, read: async () => copyOf(kept.payload) };
  }

  async write(payload: CachePayload, key: VaultKey | null): Promise<void> {
    if (payload.vaultKey && !key) throw new Error('an encrypted vault is only kept once unlocked');
    this.kept = { payload: copyOf(payload), encrypted: key !== null };
  }
}

function copyOf(payload: CachePayload): CachePayload {
  const imageFiles: CachePayload['imageFiles'] = {};
  for (const [id, files] of Object.entries(payload.imageFiles)) imageFiles[id] = { ...files };
  return {
    ...payload,
    records: [...payload.records],
    imageStates: [...payload.imageStates],
    pending: [...payload.pending],
    vaultKey: payload.vaultKey && { ...payload.vaultKey },
    imageFiles,
  };
}
