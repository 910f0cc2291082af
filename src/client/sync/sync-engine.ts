import { randomUUID } from 'node:crypto';
import { commandSchema, type RecordCommand, type VaultCommand } from '../../domain/commands.js';
import type { RecordState } from '../../domain/decider.js';
import { DomainError } from '../../domain/errors.js';
import { isRecordEvent, type VaultEvent } from '../../domain/events.js';
import type { ImageRendition, ImageState } from '../../domain/images.js';
import { applyLocally } from '../../domain/local-apply.js';
import { rebase, type ConflictNotice } from '../../domain/rebase.js';
import { SearchIndex, type SearchHit, type SearchableRecord } from '../search/index.js';
import type { Field, RecordKind, VaultRecord } from '../../domain/record.js';
import { VaultState, withoutTombstone } from '../../domain/vault-state.js';
import { createVaultKey, isSealed, rewrapVaultKey, unwrapVaultKey, wipe, type KdfCost, type KdfOptions, type VaultKey } from '../crypto/index.js';
import type { VaultTransport } from './transport.js';
import { CacheSetAside, LocalCache } from './local-cache.js';
import type { CachePayload, ImageFiles, ReplicaStore, StoredReplica } from './replica-store.js';
import { openRecord, resealContent, sealFields, sealName, type OpenedRecord } from './record-crypto.js';

/** Where the replica is kept: a given store, or the file for this user and server under `home`. */
export type ReplicaPlace = { store: ReplicaStore } | { home: string; server: string };

export type SyncEngineOptions = ReplicaPlace & {
  /** Where the user's log lives: a Keeper server over gRPC, or an in-memory log in tests. */
  transport: VaultTransport;
  userId: string;
  clientId: string;
  /**
   * Asked when the vault is encrypted and no key is at hand; a wrong answer changes nothing.
   * Without it an encrypted vault opens locked: names and what is not sealed, until `unlock`.
   */
  askSecret?: () => Promise<string>;
  /** An already unlocked vault key (e.g. from `keeper unlock`'s session). */
  vaultKey?: VaultKey;
  /** KDF cost for new envelopes and the weak-params switch, for tests only. */
  kdf?: KdfOptions & { cost?: Partial<KdfCost> };
  now?: () => number;
};

export interface SyncReport {
  /** What crossed the wire: nothing (versions equal), events, or a snapshot for a cold start. */
  transfer: 'none' | 'events' | 'snapshot';
  pulled: number;
  pushed: number;
  version: number;
  conflicts: ConflictNotice[];
  /**
   * Records that events from elsewhere changed (this client's own pushes left out), so a UI can
   * refresh what it shows. After a snapshot (transfer 'snapshot') anything may have changed.
   */
  changed: string[];
}

/** The vault is encrypted and this operation needs the key. */
export class VaultLocked extends Error {
  constructor(what: string) {
    super(`the vault is encrypted and locked: unlock it to ${what}`);
    this.name = 'VaultLocked';
  }
}

export interface RecordVersion {
  version: number;
  at: number;
  type: VaultEvent['type'];
  clientId: string;
  /** The record right after this event. */
  state: RecordState;
}

const PUSH_BATCH = 500;
const MAX_PUSH_ATTEMPTS = 10;

/**
 * The client core every face uses (CLI, TUI, HTTP agent, bot): a replica of the user's log folded
 * with the domain's evolve, local edits queued as commands with their mutation ids, and a sync
 * that pulls what the server has, rebases local edits on it (server wins per field, the losing
 * edit kept as a conflict copy) and pushes at the last synced version. Everything is kept in an
 * atomic local cache, encrypted with the vault key when encryption is on.
 */
export class SyncEngine {
  private synced = new VaultState();
  private pending: VaultCommand[] = [];
  private imageFiles: ImageFiles = {};
  private key: VaultKey | null;
  /** Records touched by pending commands, as the user sees them (undefined = gone). */
  private overlay = new Map<string, RecordState | undefined>();
  private readonly cache: ReplicaStore;
  private readonly now: () => number;
  /** Messages for the user from opening (a cache set aside, say). */
  readonly notices: string[] = [];
  /** Search over the plaintext view, built on first use and then kept current record by record. */
  private index: SearchIndex | undefined;
  private readonly staleInIndex = new Set<string>();
  /** An encrypted replica kept where it cannot be read without the key: read at `unlock`. */
  private unread: StoredReplica | undefined;

  private constructor(private readonly options: SyncEngineOptions) {
    this.cache = 'store' in options ? options.store : new LocalCache(options.home, options.server, options.userId);
    this.key = options.vaultKey ?? null;
    this.now = options.now ?? Date.now;
  }

  /** Loads the local cache (asking for the secret word when it is encrypted); works offline. */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    const engine = new SyncEngine(options);
    await engine.load();
    return engine;
  }

  get version(): number {
    return this.synced.version;
  }

  get lastModifiedAt(): number {
    return this.synced.lastModifiedAt;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get pendingCommands(): readonly VaultCommand[] {
    return this.pending;
  }

  get encrypted(): boolean {
    return this.synced.vaultKey !== null;
  }

  get unlocked(): boolean {
    return this.key !== null;
  }

  /** Where the replica is kept (the cache file's path, or "memory"). */
  get cachePath(): string {
    return this.cache.location;
  }

  /** The vault key while unlocked (for `keeper unlock` to hand to later commands). */
  get unlockedKey(): VaultKey | null {
    return this.key;
  }

  /** Live records as the user sees them: synced state with local edits applied (values as stored). */
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

  /** The plaintext view (sealed values opened while unlocked). */
  open(record: VaultRecord): OpenedRecord {
    return openRecord(this.key, record);
  }

  /** Opens the vault key with the secret word; the replica decrypts in place (and a kept one unread so far is read now). */
  async unlock(secret: string): Promise<void> {
    if (!this.synced.vaultKey) throw new Error('the vault is not encrypted: there is nothing to unlock');
    this.key = await unwrapVaultKey(JSON.parse(this.synced.vaultKey.envelope), secret, this.options.userId, this.options.kdf ?? {});
    this.index = undefined;
    const unread = this.unread;
    this.unread = undefined;
    // What the store kept is the replica, waiting edits included; what was listed meanwhile comes again with the next sync.
    if (unread) await this.adoptStored(unread);
  }

  /** Forgets the key and every decrypted value held for search. */
  lock(): void {
    if (this.key) wipe(this.key);
    this.key = null;
    this.index = undefined;
  }

  /**
   * Records whose name, field names or (decrypted, when unlocked) values contain `query`, any
   * case; name matches first. Runs in memory, no round trip.
   */
  search(query: string, options: { limit?: number } = {}): { total: number; hits: Array<SearchHit & { record: OpenedRecord }> } {
    if (!this.index) {
      this.index = SearchIndex.build(this.records().map((record) => searchable(this.open(record))));
      this.staleInIndex.clear();
    }
    for (const id of this.staleInIndex) {
      const record = this.record(id);
      if (record) this.index.upsert(searchable(this.open(record)));
      else this.index.remove(id);
    }
    this.staleInIndex.clear();
    const result = this.index.search(query, options);
    return { total: result.total, hits: result.hits.map((hit) => ({ ...hit, record: this.open(this.record(hit.id)!) })) };
  }

  /** Lets go of the search index (an idle replica in a process holding many); the next search builds it again. */
  forgetSearch(): void {
    this.index = undefined;
  }

  // ---- local edits -------------------------------------------------------------------------

  async create(input: { kind: RecordKind; name: string; fields: Field[]; sealAll?: boolean; recordId?: string }): Promise<string> {
    const recordId = input.recordId ?? randomUUID();
    const key = this.keyForWriting(input.sealAll || input.fields.some((f) => f.sensitive), 'add sensitive values');
    await this.queue({
      type: 'CreateRecord',
      mutationId: randomUUID(),
      recordId,
      kind: input.kind,
      name: key && input.sealAll ? sealName(key, recordId, input.name) : input.name,
      fields: sealFields(key, recordId, input.fields, input.sealAll),
    });
    return recordId;
  }

  async update(recordId: string, changes: { name?: string; kind?: RecordKind; setFields?: Field[]; removeFields?: string[] }): Promise<void> {
    const current = this.record(recordId);
    const sealAll = current ? isSealed(current.name) : false;
    const setFields = changes.setFields ?? [];
    const key = this.keyForWriting(sealAll || setFields.some((f) => f.sensitive), 'change sensitive values');
    const command: VaultCommand = {
      type: 'UpdateRecord',
      mutationId: randomUUID(),
      recordId,
      setFields: sealFields(key, recordId, setFields, sealAll),
      removeFields: changes.removeFields ?? [],
    };
    if (changes.name !== undefined) command.name = key && sealAll ? sealName(key, recordId, changes.name) : changes.name;
    if (changes.kind !== undefined) command.kind = changes.kind;
    await this.queue(command);
  }

  async delete(recordId: string): Promise<void> {
    await this.queue({ type: 'DeleteRecord', mutationId: randomUUID(), recordId });
  }

  /** Puts a record back as it was at `version` (a new event; the history keeps everything). */
  async restore(recordId: string, version: number): Promise<void> {
    const versions = await this.history(recordId);
    const target = versions.find((v) => v.version === version);
    if (!target) throw new DomainError('record_not_found', `record ${recordId} has no version ${version}`);
    if (target.state.deletedAt !== null) throw new DomainError('record_deleted', `version ${version} of record ${recordId} is its deletion; pick an earlier one`);
    await this.queue({
      type: 'RestoreRecord',
      mutationId: randomUUID(),
      recordId,
      kind: target.state.kind,
      name: target.state.name,
      fields: target.state.fields,
      fromVersion: version,
    });
  }

  // ---- history -----------------------------------------------------------------------------

  /** Every version of one record, from the log (fetched now: the cache keeps only the latest). */
  async history(recordId: string): Promise<RecordVersion[]> {
    const full = await this.fullReplay();
    return full.versions.get(recordId) ?? [];
  }

  /** Records deleted in the log (restorable), with their last content. */
  async deletedRecords(): Promise<RecordState[]> {
    const full = await this.fullReplay();
    return [...full.state.records.values()].filter((r) => r.deletedAt !== null && this.view(r.id)?.deletedAt !== null);
  }

  private async fullReplay(): Promise<{ state: VaultState; versions: Map<string, RecordVersion[]> }> {
    const state = new VaultState();
    const versions = new Map<string, RecordVersion[]>();
    await this.options.transport.pull(0, (events) => {
      for (const event of events) {
        state.apply(event);
        if (event.type === 'VaultKeySet') continue;
        const after = state.get(event.data.recordId);
        if (!after) continue;
        const list = versions.get(event.data.recordId) ?? [];
        list.push({ version: event.version, at: event.metadata.at, type: event.type, clientId: event.metadata.clientId, state: after });
        versions.set(event.data.recordId, list);
      }
    });
    // A replica that started from a snapshot has no tombstones; the log does.
    for (const [id, record] of state.records) {
      if (record.version <= this.synced.version && !this.synced.records.has(id)) this.synced.records.set(id, record);
    }
    this.recomputeOverlay();
    return { state, versions };
  }

  // ---- encryption --------------------------------------------------------------------------

  /**
   * Turns encryption on: a new vault key wrapped by the secret word goes to the server, and every
   * sensitive value (every value and name with sealAll) is re-written sealed through new events.
   * Older events keep what they held; the report says so.
   */
  async enableEncryption(secret: string, options: { sealAll?: boolean } = {}): Promise<{ resealed: number; report: SyncReport }> {
    await this.sync();
    if (this.synced.vaultKey) throw new Error('the vault is already encrypted');
    const { key, envelope } = await createVaultKey(secret, this.options.userId, { ...(this.options.kdf ?? {}), ...(this.options.kdf?.cost ? { kdf: this.options.kdf.cost } : {}) });
    // The key goes to the server alone first: if another device turned encryption on meanwhile,
    // nothing has been sealed under a key the other devices will never know.
    const keyId = randomUUID();
    await this.queue({ type: 'SetVaultKey', mutationId: randomUUID(), keyId, replacesKeyId: null, envelope: JSON.stringify(envelope) }, false);
    this.key = key;
    await this.sync();
    // (Read through a fresh reference: the sync above replaced the state checked earlier.)
    const serverKey = this.synced.vaultKey as { keyId: string } | null;
    if (serverKey?.keyId !== keyId) {
      wipe(key);
      this.key = null;
      this.index = undefined;
      throw new Error('encryption was turned on from another device at the same time: nothing was changed here; unlock with that secret word');
    }
    this.index = undefined;
    let resealed = 0;
    for (const record of this.records()) {
      const toSeal = record.fields.filter((f) => (f.sensitive || options.sealAll) && !isSealed(f.value));
      const nameToSeal = options.sealAll && !isSealed(record.name);
      if (toSeal.length === 0 && !nameToSeal) continue;
      resealed++;
      const command: VaultCommand = {
        type: 'UpdateRecord',
        mutationId: randomUUID(),
        recordId: record.id,
        setFields: sealFields(key, record.id, toSeal.map((f) => ({ ...f, sensitive: f.sensitive || Boolean(options.sealAll) }))),
        removeFields: [],
      };
      if (nameToSeal) command.name = sealName(key, record.id, record.name);
      await this.queue(command, false);
    }
    await this.save();
    return { resealed, report: await this.sync() };
  }

  /** A new secret word re-wraps the same vault key; no record changes. */
  async changeSecret(oldSecret: string, newSecret: string): Promise<SyncReport> {
    await this.sync();
    const current = this.synced.vaultKey;
    if (!current) throw new Error('the vault is not encrypted');
    const envelope = await rewrapVaultKey(JSON.parse(current.envelope), oldSecret, newSecret, this.options.userId, {
      ...(this.options.kdf ?? {}),
      ...(this.options.kdf?.cost ? { kdf: this.options.kdf.cost } : {}),
    });
    await this.queue({ type: 'SetVaultKey', mutationId: randomUUID(), keyId: current.keyId, replacesKeyId: current.keyId, envelope: JSON.stringify(envelope) });
    return this.sync();
  }

  // ---- sync --------------------------------------------------------------------------------

  /**
   * Status first: equal versions and nothing pending means nothing more crosses the wire. A
   * server ahead is pulled (it has priority) and local edits are rebased; then pending edits are
   * pushed at the synced version until accepted. The cache is saved whatever happens.
   */
  async sync(): Promise<SyncReport> {
    const report: SyncReport = { transfer: 'none', pulled: 0, pushed: 0, version: this.synced.version, conflicts: [], changed: [] };
    try {
      const status = await this.options.transport.status();
      // A snapshot is the cheap start, but only the log shows which pending edits already landed.
      if (this.synced.version === 0 && this.synced.records.size === 0 && status.version > 0 && this.pending.length === 0) {
        await this.coldStart(report);
      } else if (status.version < this.synced.version) {
        // The server knows less than this replica (restored from a backup, or another server with
        // the same address): the server has priority, so start again from its snapshot.
        this.synced = new VaultState();
        this.notices.push(`the server is at version ${status.version}, behind this client's ${report.version}: the replica was rebuilt from the server`);
        await this.coldStart(report);
      } else if (status.version > this.synced.version) {
        await this.pullAndRebase(report);
      }
      for (let attempt = 0; this.pending.length > 0; attempt++) {
        if (attempt >= MAX_PUSH_ATTEMPTS) throw new Error('the vault kept changing during this sync; your changes are kept, sync again');
        if (this.encrypted && !this.key && this.pending.some((c) => c.type !== 'DeleteRecord')) throw new VaultLocked('sync your changes');
        const batch = this.pending.slice(0, PUSH_BATCH);
        const outcome = await this.options.transport.push({ expectedVersion: this.synced.version, clientId: this.options.clientId, commands: batch });
        if (outcome.accepted) report.pushed += batch.length;
        // Either way, take the server's events from the synced version: our own accepted
        // events come back (and leave the queue as landed), anyone else's are rebased on.
        await this.pullAndRebase(report);
      }
      report.version = this.synced.version;
      report.changed = [...new Set(report.changed)];
      return report;
    } finally {
      await this.save();
    }
  }

  // ---- images --------------------------------------------------------------------------------

  /** The images attached to a record, as last synced (offline too). */
  imagesOf(recordId: string): ImageState[] {
    return this.synced.imagesOf(recordId);
  }

  /** An attached image of a live record, by id. */
  image(imageId: string): ImageState | undefined {
    const image = this.synced.images.get(imageId);
    const record = image ? this.synced.get(image.recordId) : undefined;
    return image && image.detachedAt === null && record && record.deletedAt === null ? image : undefined;
  }

  /** Every attached image of the live records, oldest first. */
  allImages(): ImageState[] {
    return [...this.synced.images.values()].filter((image) => this.image(image.id) !== undefined);
  }

  /** The files this client saved of an image, by rendition. */
  imageFilesOf(imageId: string): Partial<Record<ImageRendition, string>> {
    return { ...this.imageFiles[imageId] };
  }

  /** Remembers where a rendition was saved, in the cache, so the link survives restarts and re-syncs. */
  async linkImageFile(imageId: string, rendition: ImageRendition, path: string): Promise<void> {
    this.imageFiles[imageId] = { ...this.imageFiles[imageId], [rendition]: path };
    await this.save();
  }

  /** Writes the cache (atomically); an encrypted vault needs the key to be written. */
  async save(): Promise<void> {
    if (this.encrypted && !this.key) return;
    const payload: CachePayload = {
      version: this.synced.version,
      lastModifiedAt: this.synced.lastModifiedAt,
      records: [...this.synced.records.values()],
      vaultKey: this.synced.vaultKey,
      pending: this.pending,
      imageStates: [...this.synced.images.values()],
      imageFiles: this.imageFiles,
      savedAt: this.now(),
    };
    await this.cache.write(payload, this.encrypted ? this.key : null);
  }

  // ---- internals ---------------------------------------------------------------------------

  private async load(): Promise<void> {
    try {
      const stored = await this.cache.open();
      if (!stored) return;
      if (stored.encrypted && !this.key) {
        if (!stored.vaultKey) throw new CacheSetAside('encrypted without a key envelope', this.cache.location);
        if (this.options.askSecret) this.key = await this.askForKey(stored.vaultKey.envelope);
        else if (!stored.readableLocked) {
          // Opened locked where the kept replica is sealed as a whole: it waits for the key (and is
          // never overwritten meanwhile: nothing is saved while locked), the server's list serves.
          this.unread = stored;
          this.synced.vaultKey = stored.vaultKey;
          return;
        }
      }
      await this.adoptStored(stored);
    } catch (error) {
      if (!(error instanceof CacheSetAside)) throw error;
      this.notices.push(error.message);
    }
  }

  private async adoptStored(stored: StoredReplica): Promise<void> {
    try {
      const payload = await stored.read(stored.encrypted ? this.key : null);
      this.synced = VaultState.fromSnapshot({ ...payload, images: payload.imageStates });
      this.pending = payload.pending;
      this.imageFiles = payload.imageFiles;
      this.index = undefined;
      this.recomputeOverlay();
    } catch (error) {
      if (!(error instanceof CacheSetAside)) throw error;
      this.notices.push(error.message);
    }
  }

  private async askForKey(envelope: string): Promise<VaultKey> {
    if (!this.options.askSecret) throw new VaultLocked('read it');
    const secret = await this.options.askSecret();
    return unwrapVaultKey(JSON.parse(envelope), secret, this.options.userId, this.options.kdf ?? {});
  }

  private async coldStart(report: SyncReport): Promise<void> {
    const snapshot = await this.options.transport.list();
    // Without a way to ask, an encrypted vault is taken locked: its sealed values stay sealed.
    if (snapshot.vaultKey && !this.key && this.options.askSecret) this.key = await this.askForKey(snapshot.vaultKey.envelope);
    this.synced = VaultState.fromSnapshot(snapshot);
    report.transfer = 'snapshot';
    this.index = undefined;
    // The read model may lag the log: take the tail from the version it reflects.
    await this.pullAndRebase(report);
    this.recomputeOverlay();
  }

  private async pullAndRebase(report: SyncReport): Promise<void> {
    const events: VaultEvent[] = [];
    await this.options.transport.pull(this.synced.version, (batch) => {
      for (const event of batch) events.push(event);
    });
    if (events.length === 0) return;
    if (!this.synced.vaultKey && !this.key) {
      // Encryption was turned on from another client. The key is asked for before anything of the
      // pull is taken: a wrong word then leaves the replica as it was, and the next sync asks again
      // (taking the events first would leave it encrypted without a key, with nothing left to ask).
      let envelope: string | undefined;
      for (const event of events) if (event.type === 'VaultKeySet') envelope = event.data.envelope;
      if (envelope !== undefined && this.options.askSecret) this.key = await this.askForKey(envelope);
    }
    await this.loadMissingTombstones(events);
    if (report.transfer === 'none') report.transfer = 'events';
    report.pulled += events.length;
    const before = new Map<string, RecordState | undefined>();
    for (const event of events) {
      if (isRecordEvent(event)) {
        if (!before.has(event.data.recordId)) before.set(event.data.recordId, this.synced.get(event.data.recordId));
        this.staleInIndex.add(event.data.recordId);
      }
      this.synced.apply(event);
    }
    const result = rebase({
      pending: this.pending,
      serverEvents: events,
      base: (id) => (before.has(id) ? before.get(id) : this.synced.get(id)),
      server: (id) => this.synced.get(id),
      serverKeyId: this.synced.vaultKey?.keyId ?? null,
      newId: randomUUID,
      now: this.now(),
      copyContent: (content, fromId, toId) => resealContent(this.key, content, fromId, toId),
    });
    this.pending = result.pending;
    const landed = new Set(result.landed);
    for (const event of events) if (!landed.has(event.id) && 'recordId' in event.data) report.changed.push(event.data.recordId);
    report.conflicts.push(...result.conflicts);
    report.version = this.synced.version;
    this.recomputeOverlay();
  }

  /**
   * A replica started from a snapshot (List) has no deleted records, and evolve cannot restore a
   * record it does not know: before a pulled restore of such a record, its tombstone is read from
   * the log up to the synced version.
   */
  private async loadMissingTombstones(events: VaultEvent[]): Promise<void> {
    const seen = new Set<string>();
    let missing = false;
    for (const event of events) {
      if (!isRecordEvent(event) || seen.has(event.data.recordId)) continue;
      seen.add(event.data.recordId);
      if (event.type === 'RecordRestored' && !this.synced.records.has(event.data.recordId)) missing = true;
    }
    if (!missing) return;
    const upTo = this.synced.version;
    const past = new VaultState();
    await this.options.transport.pull(0, (batch) => {
      for (const event of batch) {
        if (event.version <= upTo) past.apply(event);
      }
    });
    for (const [id, record] of past.records) if (!this.synced.records.has(id)) this.synced.records.set(id, record);
    // A snapshot lists only the images of live records: those of a deleted one come back with it.
    for (const [id, image] of past.images) if (!this.synced.images.has(id)) this.synced.images.set(id, image);
  }

  private keyForWriting(needed: boolean | undefined, what: string): VaultKey | null {
    if (!this.encrypted) return null;
    if (!this.key) {
      if (needed) throw new VaultLocked(what);
      return null;
    }
    return this.key;
  }

  /** Validates a command as the server would, applies it to the local view, queues and saves it. */
  private async queue(command: VaultCommand, persist = true): Promise<void> {
    const parsed = commandSchema.parse(command);
    if (parsed.type !== 'SetVaultKey') {
      const next = applyLocally(this.view(parsed.recordId), parsed as RecordCommand, this.now(), this.synced.version + this.pending.length + 1);
      this.overlay.set(parsed.recordId, next);
    }
    this.pending.push(parsed);
    if (parsed.type !== 'SetVaultKey') this.staleInIndex.add(parsed.recordId);
    if (persist) await this.save();
  }

  private view(id: string): RecordState | undefined {
    return this.overlay.has(id) ? this.overlay.get(id) : this.synced.get(id);
  }

  private recomputeOverlay(): void {
    for (const id of this.overlay.keys()) this.staleInIndex.add(id);
    this.overlay = new Map();
    let version = this.synced.version;
    for (const command of this.pending) {
      if (command.type === 'SetVaultKey') continue;
      try {
        this.overlay.set(command.recordId, applyLocally(this.view(command.recordId), command, this.now(), ++version));
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
      }
      this.staleInIndex.add(command.recordId);
    }
  }
}

function searchable(record: OpenedRecord): SearchableRecord {
  const unreadable = new Set(record.unreadable);
  return {
    id: record.id,
    name: unreadable.has('name') ? '' : record.name,
    fields: record.fields.map((field) => ({ name: field.name, value: unreadable.has(field.name) ? '' : field.value })),
  };
}
