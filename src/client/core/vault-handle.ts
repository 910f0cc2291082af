import { join } from 'node:path';
import type { ImageRendition, ImageState } from '../../domain/images.js';
import type { VaultKey } from '../crypto/index.js';
import type { UploadImageResponse } from '../../gen/keeper/v1/images.js';
import { downloadImage, savedFileName, uploadImage, type Progress } from '../images/image-transfer.js';
import type { KeeperClient } from '../keeper-client.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import type { ReplicaStore } from '../sync/replica-store.js';
import { SyncEngine } from '../sync/sync-engine.js';
import type { SyncReport } from '../sync/sync-protocol.js';
import { failureOf, isOffline, KeeperFailure } from './failures.js';
import { findAnyRecordId, findImage, findRecord } from './lookups.js';
import { loadUnlockedKey } from './unlocked-key-store.js';
import { grpcVaultTransport } from '../sync/grpc-transport.js';

export interface VaultHandleOptions {
  client: KeeperClient;
  server: string;
  /** KEEPER_HOME: the local replica, and where images are saved unless told otherwise. */
  home: string;
  userId: string;
  clientId: string;
  /** Asked when the vault is encrypted and no key is at hand; a wrong answer changes nothing. */
  askSecret?: (() => Promise<string>) | undefined;
  /** An already unlocked vault key (from `keeper unlock`'s file). */
  vaultKey?: VaultKey | undefined;
  /** Where the replica is kept; the file for this user and server under `home` unless given. */
  store?: ReplicaStore | undefined;
}

/** A sync that reached the server, or the reason the local copy is all there is for now. */
export type SyncOutcome = { online: true; report: SyncReport } | { online: false; failure: KeeperFailure };

/**
 * One user's vault, as every face uses it: the replica with its sync, lookups by what a user
 * types, images kept beside it, and lock and unlock. Every use of the replica goes through
 * `exclusive`, one at a time, because a background sync and an edit made meanwhile must not
 * interleave their cache writes.
 */
export class VaultHandle {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly vault: SyncEngine,
    private readonly options: VaultHandleOptions,
  ) {}

  /** Opens the local replica (works offline); an encrypted one asks `askSecret` when the key is not at hand. */
  static async open(options: VaultHandleOptions): Promise<VaultHandle> {
    const vault = await SyncEngine.open({
      transport: grpcVaultTransport(options.client),
      ...(options.store ? { store: options.store } : { server: options.server, home: options.home }),
      userId: options.userId,
      clientId: options.clientId,
      ...(options.askSecret ? { askSecret: options.askSecret } : {}),
      ...(options.vaultKey ? { vaultKey: options.vaultKey } : {}),
    });
    return new VaultHandle(vault, options);
  }

  get server(): string {
    return this.options.server;
  }

  get userId(): string {
    return this.options.userId;
  }

  /** What opening said that the user should hear (a damaged cache set aside, say). */
  get notices(): readonly string[] {
    return this.vault.notices;
  }

  /** Runs `work` on the replica after everything queued before it. */
  exclusive<T>(work: (vault: SyncEngine) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => work(this.vault));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Pull, rebase, push. A server out of reach is an outcome, not a failure: the local copy serves. */
  async sync(): Promise<SyncOutcome> {
    try {
      return { online: true, report: await this.syncOnline() };
    } catch (error) {
      if (!isOffline(error)) throw error;
      return { online: false, failure: failureOf(error, this.options.server) };
    }
  }

  /** A sync that must reach the server (history, restore, images need what it has). */
  syncOnline(): Promise<SyncReport> {
    return this.exclusive((vault) => vault.sync());
  }

  /** A live record by full id, unique id prefix (4+ characters) or exact name, any case. */
  findRecord(ref: string): OpenedRecord {
    return findRecord(this.vault, ref);
  }

  /** A record by the same rules, deleted ones included (for history and restore); its id. */
  findAnyRecordId(ref: string): Promise<string> {
    return findAnyRecordId(this.vault, ref);
  }

  /** An attached image of a live record by full id or unique id prefix. */
  findImage(ref: string): ImageState {
    return findImage(this.vault, ref);
  }

  /** Where a rendition is saved unless the user says otherwise: KEEPER_HOME/images/<id>/<its name>. */
  imagePath(image: ImageState, rendition: ImageRendition): string {
    return join(this.options.home, 'images', image.id.slice(0, 8), savedFileName(image, rendition, this.vault.unlockedKey));
  }

  /** Sends a file as a new image of a record, sealed first when the vault is encrypted (never in the clear). */
  async attachImage(input: { recordId: string; path: string; fileName?: string | undefined; onProgress?: Progress | undefined }): Promise<UploadImageResponse> {
    if (this.vault.encrypted && !this.vault.unlockedKey) throw new KeeperFailure('locked', 'the vault is encrypted and locked: unlock it to attach images');
    return uploadImage(this.options.client, { ...input, vaultKey: this.vault.encrypted ? this.vault.unlockedKey : null });
  }

  /** Downloads a rendition (to `target`, or to its place under KEEPER_HOME) and remembers where it is. */
  async saveImage(input: { image: ImageState; rendition: ImageRendition; target?: string | undefined; onProgress?: Progress | undefined }): Promise<string> {
    const target = input.target ?? this.imagePath(input.image, input.rendition);
    const path = await downloadImage(this.options.client, { image: input.image, rendition: input.rendition, target, vaultKey: this.vault.unlockedKey, onProgress: input.onProgress });
    await this.exclusive((vault) => vault.linkImageFile(input.image.id, input.rendition, path));
    return path;
  }

  /** Detaches an image on the server; the next sync takes it off the replica. */
  async removeImage(imageId: string): Promise<void> {
    await this.options.client.deleteImage(imageId);
  }

  unlock(secret: string): Promise<void> {
    return this.exclusive((vault) => vault.unlock(secret));
  }

  /** Saves what the key is needed to save, then forgets the key and every decrypted value. */
  lock(): Promise<void> {
    return this.exclusive(async (vault) => {
      if (!vault.unlocked) return;
      await vault.save();
      vault.lock();
    });
  }

  /** Saves the replica (when it can be written) and forgets the key. */
  async close(): Promise<void> {
    await this.exclusive(async (vault) => {
      await vault.save();
      vault.lock();
    });
  }
}

/**
 * The vault of whoever is logged in with this client, opened with the key `keeper unlock` left
 * (when `unlockSecret` opens it) or else asking `askSecret` when the vault is encrypted.
 */
export async function openLoggedInVault(options: Omit<VaultHandleOptions, 'userId' | 'vaultKey'> & { unlockSecret?: string | undefined }): Promise<VaultHandle> {
  const user = await options.client.currentSession();
  if (!user) throw new KeeperFailure('not-logged-in', 'not logged in');
  const vaultKey = await loadUnlockedKey(options.home, options.server, user.userId, options.unlockSecret);
  return VaultHandle.open({ ...options, userId: user.userId, vaultKey });
}
