import type { VaultCommand } from '../../domain/commands.js';
import type { RecordState } from '../../domain/decider.js';
import type { ImageRendition, ImageState } from '../../domain/images.js';
import type { VaultKey } from '../crypto/index.js';

export type ImageFiles = Record<string, Partial<Record<ImageRendition, string>>>;

/** What a client keeps between uses: the replica, what it has not pushed yet, and its image links. */
export interface CachePayload {
  version: number;
  lastModifiedAt: number;
  records: RecordState[];
  vaultKey: { keyId: string; envelope: string } | null;
  pending: VaultCommand[];
  /** The replica's images (detached ones included), like its records. */
  imageStates: ImageState[];
  /** Image id -> the files this client downloaded of it, by rendition: the link survives restarts and re-syncs. */
  imageFiles: ImageFiles;
  savedAt: number;
}

/** A kept replica, before its body is read: enough to ask for the secret word first. */
export interface StoredReplica {
  encrypted: boolean;
  vaultKey: { keyId: string; envelope: string } | null;
  /** The body can be read without the vault key (a store in process memory): a locked replica opens with it. */
  readableLocked: boolean;
  /** The body; an encrypted one needs the vault key unless `readableLocked`. */
  read(key: VaultKey | null): Promise<CachePayload>;
}

/**
 * Where a replica is kept between uses: a file per user and server for the CLI and TUI, process
 * memory for a process holding many users. A store that finds what it keeps damaged sets it aside
 * and throws CacheSetAside: the replica is rebuilt from the server.
 */
export interface ReplicaStore {
  /** Where it is kept, for messages (a file path, or "memory"). */
  readonly location: string;
  open(): Promise<StoredReplica | undefined>;
  /** Writes the whole payload, sealed with `key` when the vault is encrypted. */
  write(payload: CachePayload, key: VaultKey | null): Promise<void>;
}
