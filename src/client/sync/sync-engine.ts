import { randomUUID } from 'node:crypto';
import type { VaultCommand } from '../../domain/commands.js';
import type { RecordState } from '../../domain/decider.js';
import { DomainError } from '../../domain/errors.js';
import type { ImageRendition, ImageState } from '../../domain/images.js';
import { normaliseField, type Field, type RecordKind, type VaultRecord } from '../../domain/record.js';
import { foldTag, normaliseTags } from '../../domain/tags.js';
import { isSealed, type VaultKey } from '../crypto/index.js';
import { replayLog, type RecordVersion } from './history.js';
import { KeyRing, VaultLocked, type KeyRingKdf } from './key-ring.js';
import { CacheSetAside, LocalCache } from './local-cache.js';
import { openRecord, sealFields, sealName, sealTags, type OpenedRecord } from './record-crypto.js';
import { Replica } from './replica.js';
import { ReplicaImages } from './replica-images.js';
import type { SearchHit } from '../search/index.js';
import { ReplicaSearch, type ReplicaSearchOptions, type ReplicaSearchResult } from './replica-search.js';
import type { ReplicaStore, StoredReplica } from './replica-store.js';
import { syncReplica, type SyncReport } from './sync-protocol.js';
import type { VaultTransport } from './transport.js';

/**
 * What `SyncEngine.create` takes: the record in plaintext; the engine seals what must be sealed.
 * Its id is made unless given (an import derives it from the source item).
 */
export interface NewRecord {
  kind: RecordKind;
  name: string;
  fields: Field[];
  tags?: string[];
  favourite?: boolean;
  /** Seal the name and every value, not only the sensitive ones (an encrypted vault). */
  sealAll?: boolean;
  recordId?: string;
}

/** What `SyncEngine.update` takes; anything left out stays as it is. */
export interface RecordChanges {
  name?: string;
  kind?: RecordKind;
  setFields?: Field[];
  removeFields?: string[];
  /** The whole new tag list. */
  tags?: string[];
  favourite?: boolean;
}

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
  kdf?: KeyRingKdf;
  now?: () => number;
};

/**
 * The client core's replica of one user's vault, as every face uses it (CLI, TUI, HTTP agent,
 * bot). It puts together the parts that each do one job: the replica (synced state and waiting
 * edits, ./replica.ts), the sync protocol (./sync-protocol.ts), the key ring, search, history and
 * the images index, over two ports: the transport to the user's log and the store that keeps the
 * replica between uses (encrypted with the vault key when encryption is on).
 */
export class SyncEngine {
  private readonly replica: Replica;
  private readonly keys: KeyRing;
  private readonly finder: ReplicaSearch;
  private readonly images: ReplicaImages;
  private readonly store: ReplicaStore;
  private readonly now: () => number;
  /** Messages for the user from opening or syncing (a cache set aside, say). */
  readonly notices: string[] = [];
  private revisionCount = 0;
  /** An encrypted replica kept where it cannot be read without the key: read at `unlock`. */
  private unread: StoredReplica | undefined;

  private constructor(private readonly options: SyncEngineOptions) {
    this.store = 'store' in options ? options.store : new LocalCache(options.home, options.server, options.userId);
    this.now = options.now ?? Date.now;
    this.keys = new KeyRing(options.userId, options.kdf ?? {}, options.askSecret, options.vaultKey ?? null);
    this.replica = new Replica(this.now, (id) => {
      this.revisionCount++;
      this.finder.touched(id);
    });
    this.finder = new ReplicaSearch(
      () => this.replica.records(),
      (id) => this.replica.record(id),
      (record) => this.open(record),
      () => this.keys.key !== null,
    );
    this.images = new ReplicaImages(this.replica);
  }

  /** Loads the kept replica (asking for the secret word when it is encrypted and the face can ask); works offline. */
  static async open(options: SyncEngineOptions): Promise<SyncEngine> {
    const engine = new SyncEngine(options);
    await engine.load();
    return engine;
  }

  get version(): number {
    return this.replica.version;
  }

  /**
   * Moves whenever what `records()` or `open()` shows may have changed (an edit, a sync, a lock
   * or unlock), so a face can keep what it derived from them (an ordered list) until it does.
   */
  get revision(): number {
    return this.revisionCount;
  }

  get lastModifiedAt(): number {
    return this.replica.synced.lastModifiedAt;
  }

  get pendingCount(): number {
    return this.replica.pending.length;
  }

  get pendingCommands(): readonly VaultCommand[] {
    return this.replica.pending;
  }

  get encrypted(): boolean {
    return this.replica.encrypted;
  }

  get unlocked(): boolean {
    return this.keys.key !== null;
  }

  /** Where the replica is kept (the cache file's path, or "memory"). */
  get cachePath(): string {
    return this.store.location;
  }

  /** The vault key while unlocked (for `keeper unlock` to hand to later commands). */
  get unlockedKey(): VaultKey | null {
    return this.keys.key;
  }

  /** Live records as the user sees them: synced state with local edits applied (values as stored). */
  records(): VaultRecord[] {
    return this.replica.records();
  }

  record(id: string): VaultRecord | undefined {
    return this.replica.record(id);
  }

  /** The plaintext view (sealed values opened while unlocked). */
  open(record: VaultRecord): OpenedRecord {
    return openRecord(this.keys.key, record);
  }

  /** Opens the vault key with the secret word; the replica decrypts in place (and a kept one unread so far is read now). */
  async unlock(secret: string): Promise<void> {
    const vaultKey = this.replica.synced.vaultKey;
    if (!vaultKey) throw new Error('the vault is not encrypted: there is nothing to unlock');
    await this.keys.unlock(vaultKey.envelope, secret);
    this.viewChanged();
    const unread = this.unread;
    this.unread = undefined;
    if (!unread) return;
    // What the store kept is the replica with the edits it was waiting to push; edits made while
    // locked follow them. What was listed meanwhile comes again with the next sync.
    const madeWhileLocked = this.replica.pending;
    await this.adoptStored(unread);
    if (madeWhileLocked.length === 0) return;
    const kept = new Set(this.replica.pending.map((command) => command.mutationId));
    this.replica.pending = [...this.replica.pending, ...madeWhileLocked.filter((command) => !kept.has(command.mutationId))];
    this.replica.recomputeOverlay();
    await this.save();
  }

  /** Forgets the key and every decrypted value held for search. */
  lock(): void {
    this.keys.forget();
    this.viewChanged();
  }

  /**
   * Records whose name, field names or (decrypted, when unlocked) values contain `query`, any
   * case; name matches first. Sensitive values only with `includeSensitive`. Runs in memory, no
   * round trip.
   */
  search(query: string, options: ReplicaSearchOptions = {}): ReplicaSearchResult {
    return this.finder.search(query, options);
  }

  /** The same search, the hits' records left as they are (ids, how they matched). */
  find(query: string, options: ReplicaSearchOptions = {}): { total: number; hits: SearchHit[] } {
    return this.finder.find(query, options);
  }

  /** Builds the search index now (names and non-sensitive values) instead of at the next search. */
  prepareSearch(): void {
    this.finder.prepare();
  }

  /** Lets go of the search index (an idle replica in a process holding many); the next search builds it again. */
  forgetSearch(): void {
    this.finder.forget();
  }

  /** Everything shown may have changed (a lock, an unlock, a replica read or replaced whole). */
  private viewChanged(): void {
    this.revisionCount++;
    this.finder.forget();
  }

  // ---- local edits -------------------------------------------------------------------------

  /**
   * A new record. Tags are sealed like sensitive values when the vault is encrypted (so adding
   * tags to an encrypted vault needs it unlocked); `favourite` is a plain flag.
   */
  async create(input: NewRecord): Promise<string> {
    const command = this.createCommand(input);
    await this.queue(command);
    return command.recordId;
  }

  /**
   * Several new records at once (an import's batch): each checked and queued as `create` does,
   * the replica kept once for all of them, and the next sync pushes them together.
   */
  async createMany(inputs: NewRecord[]): Promise<string[]> {
    const ids: string[] = [];
    for (const input of inputs) {
      const command = this.createCommand(input);
      await this.queue(command, false);
      ids.push(command.recordId);
    }
    await this.save();
    return ids;
  }

  private createCommand(input: NewRecord): Extract<VaultCommand, { type: 'CreateRecord' }> {
    const recordId = input.recordId ?? randomUUID();
    const tags = normaliseTags(input.tags ?? []);
    const fields = input.fields.map(normaliseField);
    const key = this.keys.forWriting(this.encrypted, input.sealAll || fields.some((f) => f.sensitive) || tags.length > 0, 'add sensitive values or tags');
    const command: Extract<VaultCommand, { type: 'CreateRecord' }> = {
      type: 'CreateRecord',
      mutationId: randomUUID(),
      recordId,
      kind: input.kind,
      name: key && input.sealAll ? sealName(key, recordId, input.name) : input.name,
      fields: sealFields(key, recordId, fields, input.sealAll),
    };
    if (tags.length > 0) command.tags = sealTags(key, recordId, tags);
    if (input.favourite) command.favourite = true;
    return command;
  }

  /** Changes a record; `tags` replaces its whole tag list (see `tagsAfter` for adding and removing some). */
  async update(recordId: string, changes: RecordChanges): Promise<void> {
    const current = this.record(recordId);
    const sealAll = current ? isSealed(current.name) : false;
    const setFields = (changes.setFields ?? []).map(normaliseField);
    const tags = changes.tags === undefined ? undefined : normaliseTags(changes.tags);
    const key = this.keys.forWriting(this.encrypted, sealAll || setFields.some((f) => f.sensitive) || (tags !== undefined && tags.length > 0), 'change sensitive values or tags');
    const command: VaultCommand = {
      type: 'UpdateRecord',
      mutationId: randomUUID(),
      recordId,
      setFields: sealFields(key, recordId, setFields, sealAll),
      removeFields: changes.removeFields ?? [],
    };
    if (changes.name !== undefined) command.name = key && sealAll ? sealName(key, recordId, changes.name) : changes.name;
    if (changes.kind !== undefined) command.kind = changes.kind;
    if (tags !== undefined) command.tags = sealTags(key, recordId, tags);
    if (changes.favourite !== undefined) command.favourite = changes.favourite;
    await this.queue(command);
  }

  /**
   * A record's tag list with some added and some removed (any case: "Work" removes "work"), as
   * `update({ tags })` takes it. Throws while locked when the record's tags are sealed.
   */
  tagsAfter(recordId: string, change: { add?: string[]; remove?: string[] }): string[] {
    const record = this.record(recordId);
    if (!record) throw new DomainError('record_not_found', `record ${recordId} does not exist`);
    const opened = this.open(record);
    if (opened.unreadable.includes('tags')) throw new VaultLocked('change the tags of a record');
    const removed = new Set((change.remove ?? []).map(foldTag));
    return normaliseTags([...opened.tags.filter((tag) => !removed.has(foldTag(tag))), ...(change.add ?? [])]);
  }

  /** Every tag in the live records (readable ones: sealed tags while locked are not), with how many records carry it. */
  allTags(): Array<{ tag: string; count: number }> {
    const counts = new Map<string, { tag: string; count: number }>();
    for (const record of this.records()) {
      for (const tag of this.open(record).tags) {
        const entry = counts.get(foldTag(tag)) ?? { tag, count: 0 };
        entry.count++;
        counts.set(foldTag(tag), entry);
      }
    }
    return [...counts.values()].sort((a, b) => a.tag.localeCompare(b.tag));
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
      ...(target.state.tags.length > 0 ? { tags: target.state.tags } : {}),
      ...(target.state.favourite ? { favourite: true } : {}),
    });
  }

  // ---- history -----------------------------------------------------------------------------

  /** Every version of one record, from the log (fetched now: the replica keeps only the latest). */
  async history(recordId: string): Promise<RecordVersion[]> {
    const log = await replayLog(this.options.transport);
    this.replica.rememberFromLog(log.state);
    return log.versions.get(recordId) ?? [];
  }

  /** Every version of every record, from the log (one fetch; an export with history). */
  async histories(): Promise<Map<string, RecordVersion[]>> {
    const log = await replayLog(this.options.transport);
    this.replica.rememberFromLog(log.state);
    return log.versions;
  }

  /** Records deleted in the log (restorable), with their last content. */
  async deletedRecords(): Promise<RecordState[]> {
    const log = await replayLog(this.options.transport);
    this.replica.rememberFromLog(log.state);
    return [...log.state.records.values()].filter((r) => r.deletedAt !== null && this.replica.view(r.id)?.deletedAt !== null);
  }

  // ---- encryption --------------------------------------------------------------------------

  /**
   * Turns encryption on: a new vault key wrapped by the secret word goes to the server, and every
   * sensitive value (every value and name with sealAll) is re-written sealed through new events.
   * Older events keep what they held; the report says so.
   */
  async enableEncryption(secret: string, options: { sealAll?: boolean } = {}): Promise<{ resealed: number; report: SyncReport }> {
    await this.sync();
    if (this.encrypted) throw new Error('the vault is already encrypted');
    const { key, envelope } = await this.keys.create(secret);
    // The key goes to the server alone first: if another device turned encryption on meanwhile,
    // nothing has been sealed under a key the other devices will never know.
    const keyId = randomUUID();
    await this.queue({ type: 'SetVaultKey', mutationId: randomUUID(), keyId, replacesKeyId: null, envelope: JSON.stringify(envelope) }, false);
    this.keys.adopt(key);
    await this.sync();
    this.viewChanged();
    if (this.replica.synced.vaultKey?.keyId !== keyId) {
      this.keys.forget();
      throw new Error('encryption was turned on from another device at the same time: nothing was changed here; unlock with that secret word');
    }
    let resealed = 0;
    for (const record of this.records()) {
      const toSeal = record.fields.filter((f) => (f.sensitive || options.sealAll) && !isSealed(f.value));
      const nameToSeal = options.sealAll && !isSealed(record.name);
      const tagsToSeal = record.tags.some((tag) => !isSealed(tag));
      if (toSeal.length === 0 && !nameToSeal && !tagsToSeal) continue;
      resealed++;
      const command: VaultCommand = {
        type: 'UpdateRecord',
        mutationId: randomUUID(),
        recordId: record.id,
        setFields: sealFields(key, record.id, toSeal.map((f) => ({ ...f, sensitive: f.sensitive || Boolean(options.sealAll) }))),
        removeFields: [],
      };
      if (nameToSeal) command.name = sealName(key, record.id, record.name);
      if (tagsToSeal) command.tags = record.tags.map((tag) => (isSealed(tag) ? tag : sealTags(key, record.id, [tag])[0]!));
      await this.queue(command, false);
    }
    await this.save();
    return { resealed, report: await this.sync() };
  }

  /** A new secret word re-wraps the same vault key; no record changes. */
  async changeSecret(oldSecret: string, newSecret: string): Promise<SyncReport> {
    await this.sync();
    const current = this.replica.synced.vaultKey;
    if (!current) throw new Error('the vault is not encrypted');
    const envelope = await this.keys.rewrap(current.envelope, oldSecret, newSecret);
    await this.queue({ type: 'SetVaultKey', mutationId: randomUUID(), keyId: current.keyId, replacesKeyId: current.keyId, envelope: JSON.stringify(envelope) });
    return this.sync();
  }

  // ---- sync --------------------------------------------------------------------------------

  /** Pulls, rebases and pushes (./sync-protocol.ts); the replica is kept whatever happens. */
  async sync(): Promise<SyncReport> {
    const before = this.keptStamp();
    try {
      return await syncReplica({
        transport: this.options.transport,
        replica: this.replica,
        keys: this.keys,
        clientId: this.options.clientId,
        now: this.now,
        restarted: () => this.viewChanged(),
        notices: this.notices,
      });
    } finally {
      // A sync that found nothing new leaves the kept replica as it is: rewriting it (two fsyncs)
      // was most of what `keeper ls` did after starting.
      if (this.keptStamp() !== before) await this.save();
    }
  }

  /** What a save would change, in one string: the version, the edits waiting, the view and the key. */
  private keptStamp(): string {
    const key = this.replica.synced.vaultKey;
    return `${this.replica.version}/${this.replica.pending.length}/${this.revisionCount}/${this.replica.synced.lastModifiedAt}/${key ? key.keyId : '-'}/${this.keys.key ? 'k' : '-'}`;
  }

  // ---- images --------------------------------------------------------------------------------

  /** The images attached to a record, as last synced (offline too). */
  imagesOf(recordId: string): ImageState[] {
    return this.images.of(recordId);
  }

  /** An attached image of a live record, by id. */
  image(imageId: string): ImageState | undefined {
    return this.images.get(imageId);
  }

  /** Every attached image of the live records, oldest first. */
  allImages(): ImageState[] {
    return this.images.all();
  }

  /** The files this client saved of an image, by rendition. */
  imageFilesOf(imageId: string): Partial<Record<ImageRendition, string>> {
    return this.images.filesOf(imageId);
  }

  /** Remembers where a rendition was saved, so the link survives restarts and re-syncs. */
  async linkImageFile(imageId: string, rendition: ImageRendition, path: string): Promise<void> {
    this.images.link(imageId, rendition, path);
    await this.save();
  }

  // ---- keeping the replica -------------------------------------------------------------------

  /** Writes the replica to its store; an encrypted vault is kept only while unlocked (sealed with the key). */
  async save(): Promise<void> {
    if (this.encrypted && !this.keys.key) return;
    await this.store.write(this.replica.payload(), this.encrypted ? this.keys.key : null);
  }

  private async load(): Promise<void> {
    try {
      const stored = await this.store.open();
      if (!stored) return;
      if (stored.encrypted && !this.keys.key) {
        if (!stored.vaultKey) throw new CacheSetAside('encrypted without a key envelope', this.store.location);
        if (this.keys.canAsk) await this.keys.ask(stored.vaultKey.envelope);
        else if (!stored.readableLocked) {
          // Opened locked where the kept replica is sealed as a whole: it waits for the key (and is
          // never overwritten meanwhile: nothing is saved while locked), the server's list serves.
          this.unread = stored;
          this.replica.synced.vaultKey = stored.vaultKey;
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
      this.replica.adopt(await stored.read(stored.encrypted ? this.keys.key : null));
      this.viewChanged();
    } catch (error) {
      if (!(error instanceof CacheSetAside)) throw error;
      this.notices.push(error.message);
    }
  }

  /** Validates a command as the server would, applies it to the local view, queues and keeps it. */
  private async queue(command: VaultCommand, persist = true): Promise<void> {
    this.replica.queue(command);
    if (persist) await this.save();
  }
}

