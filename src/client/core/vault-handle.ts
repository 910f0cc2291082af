import { basename, join } from 'node:path';
import type { ImageRendition, ImageState } from '../../domain/images.js';
import type { VaultKey } from '../crypto/index.js';
import type { UploadImageResponse } from '../../gen/keeper/v1/images.js';
import { downloadImage, ImageTransferError, prepareUpload, requireImageFile, savedFileName, sendUpload, uploadImage, type Progress } from '../images/image-transfer.js';
import { ImageOutbox, type QueuedImage } from '../images/image-outbox.js';
import { LIMITS } from '../../domain/limits.js';
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
  /** Told what happened to a queued image upload at a sync (sent, or dropped and why), one sentence each. */
  onNews?: ((sentence: string) => void) | undefined;
}

/** An image sent now, or kept to be sent at the next sync that reaches the server. */
export type AttachOutcome = { queued: false; response: UploadImageResponse } | { queued: true; image: QueuedImage };

/** A sync that reached the server, or the reason the local copy is all there is for now. */
export type SyncOutcome = { online: true; report: SyncReport } | { online: false; failure: KeeperFailure };

/** What a finished turn of `exclusive` leaves behind: nothing, so no answer is held. */
function settled(): void {}

/**
 * One user's vault, as every face uses it: the replica with its sync, lookups by what a user
 * types, images kept beside it, and lock and unlock. Every use of the replica goes through
 * `exclusive`, one at a time, because a background sync and an edit made meanwhile must not
 * interleave their cache writes.
 */
export class VaultHandle {
  private queue: Promise<void> = Promise.resolve();
  private readonly outbox: ImageOutbox;
  private sending: Promise<void> | undefined;

  private constructor(
    readonly vault: SyncEngine,
    private readonly options: VaultHandleOptions,
  ) {
    this.outbox = new ImageOutbox(options.home, options.server, options.userId);
  }

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
    // The queue settles to nothing: holding the last answer (a search's hits, say) until the next
    // use kept it alive long enough to be moved to the old generation, with a thousand users a
    // steady stream of garbage there.
    this.queue = run.then(settled, settled);
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

  /**
   * A sync that must reach the server (history, restore, images need what it has). Image uploads
   * queued while the server was out of reach go now, after the records they belong to, and the
   * vault is synced again to take their events.
   */
  async syncOnline(): Promise<SyncReport> {
    const report = await this.exclusive((vault) => vault.sync());
    if (await this.sendQueuedImages()) return this.exclusive((vault) => vault.sync());
    return report;
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

  /**
   * Sends a file as a new image of a record, or, when the server cannot be reached (`offline`
   * says it is known already), keeps it to be sent at the next sync: checked first either way
   * (the file, its type, the record's image count), and sealed before it is kept when the vault
   * is encrypted.
   */
  async attachOrQueueImage(input: { recordId: string; path: string; fileName?: string | undefined; onProgress?: Progress | undefined; offline?: boolean }): Promise<AttachOutcome> {
    if (this.vault.encrypted && !this.vault.unlockedKey) throw new KeeperFailure('locked', 'the vault is encrypted and locked: unlock it to attach images');
    const waiting = (await this.outbox.list()).filter((image) => image.recordId === input.recordId).length;
    if (this.vault.imagesOf(input.recordId).length + waiting >= LIMITS.imagesPerRecordMax) {
      throw new KeeperFailure('too-large', `a record holds at most ${LIMITS.imagesPerRecordMax} images${waiting ? ` (${waiting} waiting to be sent)` : ''}`);
    }
    const prepared = await prepareUpload({ ...input, vaultKey: this.vault.encrypted ? this.vault.unlockedKey : null });
    if (!input.offline) {
      try {
        return { queued: false, response: await sendUpload(this.options.client, prepared, input.onProgress) };
      } catch (error) {
        if (!isOffline(error)) throw error;
      }
    }
    // Online the server checks the picture; one kept for later is checked here, so it is not kept to be refused.
    if (!prepared.sealed) await requireImageFile(input.path);
    return { queued: true, image: await this.outbox.add(prepared, input.fileName ?? basename(input.path)) };
  }

  /** The uploads waiting for the server. */
  queuedImages(): Promise<QueuedImage[]> {
    return this.outbox.list();
  }

  /**
   * Sends what the outbox holds, oldest first, one sender at a time; answers whether any went.
   * An upload the server refuses for good (its record deleted meanwhile, a file it will not take)
   * is dropped and said; an unreachable server leaves the rest for the next sync.
   */
  private async sendQueuedImages(): Promise<boolean> {
    if (this.sending) await this.sending.catch(() => undefined);
    let sent = false;
    const run = (async () => {
      for (const image of await this.outbox.list()) {
        const name = image.shownName ?? '(sealed name)';
        if (!this.vault.record(image.recordId)) {
          await this.outbox.remove(image.imageId);
          this.options.onNews?.(`the image ${name} waiting to be sent was dropped: its record was deleted meanwhile`);
          continue;
        }
        try {
          await sendUpload(this.options.client, await this.outbox.prepared(image));
        } catch (error) {
          if (isOffline(error)) return;
          const failure = failureOf(error, this.options.server);
          if (error instanceof ImageTransferError || ['invalid', 'too-large', 'not-found', 'conflict'].includes(failure.kind)) {
            await this.outbox.remove(image.imageId);
            this.options.onNews?.(`the image ${name} waiting to be sent was refused and dropped: ${failure.message}`);
            continue;
          }
          throw error;
        }
        await this.outbox.remove(image.imageId);
        sent = true;
        this.options.onNews?.(`sent the image ${name} that was waiting (id ${image.imageId})`);
      }
    })();
    this.sending = run;
    try {
      await run;
    } finally {
      if (this.sending === run) this.sending = undefined;
    }
    return sent;
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
