import { commandSchema, type RecordCommand, type VaultCommand } from '../../domain/commands.js';
import type { RecordState } from '../../domain/decider.js';
import { DomainError } from '../../domain/errors.js';
import { isRecordEvent, type VaultEvent } from '../../domain/events.js';
import { applyLocally } from '../../domain/local-apply.js';
import type { VaultRecord } from '../../domain/record.js';
import { VaultState, withoutTombstone } from '../../domain/vault-state.js';
import type { CachePayload, ImageFiles } from './replica-store.js';
import type { VaultSnapshot } from './transport.js';

/**
 * One user's replica: the log as far as it was synced (folded with the domain's evolve), the
 * edits not yet pushed (commands with their mutation ids), and the view the user sees, which is
 * the synced state with those edits applied. Pure state, no I/O: the sync protocol feeds it the
 * server's events, the engine queues edits on it and keeps it in a store.
 */
export class Replica {
  synced = new VaultState();
  pending: VaultCommand[] = [];
  /** Image id -> the files this client saved of it: kept with the replica so the links survive. */
  imageFiles: ImageFiles = {};
  /** Records touched by pending commands, as the user sees them (undefined = gone). */
  private overlay = new Map<string, RecordState | undefined>();

  /** @param touched told of every record whose view may have changed (search re-reads it). */
  constructor(
    private readonly now: () => number,
    private readonly touched: (recordId: string) => void,
  ) {}

  get version(): number {
    return this.synced.version;
  }

  get encrypted(): boolean {
    return this.synced.vaultKey !== null;
  }

  /** Live records as the user sees them (values as stored). */
  records(): VaultRecord[] {
    const out: VaultRecord[] = [];
    for (const [id, state] of this.synced.records) {
      const view = this.overlay.has(id) ? this.overlay.get(id) : state;
      if (view && view.deletedAt === null) out.push(withoutTombstone(view));
    }
    for (const [id, view] of this.overlay) {
      if (!this.synced.records.has(id) && view && view.deletedAt === null) out.push(withoutTombstone(view));
    }
    return out;
  }

  record(id: string): VaultRecord | undefined {
    const view = this.view(id);
    return view && view.deletedAt === null ? withoutTombstone(view) : undefined;
  }

  /** A record as the user sees it, tombstone included. */
  view(id: string): RecordState | undefined {
    return this.overlay.has(id) ? this.overlay.get(id) : this.synced.get(id);
  }

  /** Validates a command as the server would and applies it to the view; it waits to be pushed. */
  queue(command: VaultCommand): void {
    const parsed = commandSchema.parse(command);
    if (parsed.type !== 'SetVaultKey') {
      const next = applyLocally(this.view(parsed.recordId), parsed as RecordCommand, this.now(), this.synced.version + this.pending.length + 1);
      this.overlay.set(parsed.recordId, next);
      this.touched(parsed.recordId);
    }
    this.pending.push(parsed);
  }

  /**
   * Folds the server's next events into the synced state; returns each touched record as it was
   * before them (the base a rebase compares with). The view is recomputed by the caller once the
   * pending edits are rebased.
   */
  applyServerEvents(events: VaultEvent[]): Map<string, RecordState | undefined> {
    const before = new Map<string, RecordState | undefined>();
    for (const event of events) {
      if (isRecordEvent(event)) {
        if (!before.has(event.data.recordId)) before.set(event.data.recordId, this.synced.get(event.data.recordId));
        this.touched(event.data.recordId);
      }
      this.synced.apply(event);
    }
    return before;
  }

  /**
   * What a start from a snapshot left out (deleted records and their images), taken from the
   * log replayed up to at least the synced version: a restore needs the tombstone it restores.
   */
  rememberFromLog(past: VaultState): void {
    const upTo = this.synced.version;
    for (const [id, record] of past.records) if (record.version <= upTo && !this.synced.records.has(id)) this.synced.records.set(id, record);
    for (const [id, image] of past.images) if (image.version <= upTo && !this.synced.images.has(id)) this.synced.images.set(id, image);
    this.recomputeOverlay();
  }

  /** Starts again from the server's snapshot; the waiting edits stay (the caller rebases them on what follows). */
  restartFrom(snapshot: VaultSnapshot): void {
    this.synced = VaultState.fromSnapshot(snapshot);
  }

  /** Starts again from a kept payload (waiting edits and image links included). */
  adopt(payload: CachePayload): void {
    this.synced = VaultState.fromSnapshot({ ...payload, images: payload.imageStates });
    this.pending = payload.pending;
    this.imageFiles = payload.imageFiles;
    this.recomputeOverlay();
  }

  /** What a store keeps of it. */
  payload(): CachePayload {
    return {
      version: this.synced.version,
      lastModifiedAt: this.synced.lastModifiedAt,
      records: [...this.synced.records.values()],
      vaultKey: this.synced.vaultKey,
      pending: this.pending,
      imageStates: [...this.synced.images.values()],
      imageFiles: this.imageFiles,
      savedAt: this.now(),
    };
  }

  /** Re-applies the pending edits on the synced state; one the state no longer allows drops out of the view (not the queue). */
  recomputeOverlay(): void {
    for (const id of this.overlay.keys()) this.touched(id);
    this.overlay = new Map();
    let version = this.synced.version;
    for (const command of this.pending) {
      if (command.type === 'SetVaultKey') continue;
      try {
        this.overlay.set(command.recordId, applyLocally(this.view(command.recordId), command, this.now(), ++version));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
      this.touched(command.recordId);
    }
  }
}
