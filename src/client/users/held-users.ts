import { EventEmitter } from 'node:events';
import { Gate } from '../../lib/gate.js';
import { PriorityGate } from '../../lib/priority-gate.js';
import type { ChannelOptions } from '../grpc-channel.js';
import { KeeperClient } from '../keeper-client.js';
import { failureOf, KeeperFailure } from '../core/failures.js';
import { VaultHandle, type SyncOutcome } from '../core/vault-handle.js';
import { MemoryTokenStore, type StoredSession } from '../token-store.js';
import { AccessTokens, type AccessTokenLifetimes } from './access-tokens.js';

const LOGINS_AT_ONCE = 8;
const CALLS_AT_ONCE = 32;
const TRANSFERS_AT_ONCE = 4;
const SWEEP_MS = 30_000;
/** A user this long without a request keeps no search index (it is built again on the next search). */
const SEARCH_IDLE_MS = 60_000;

export interface HeldUsersOptions {
  channel: ChannelOptions;
  /** Where evicted replicas are kept between uses (encrypted when the vault is). */
  home: string;
  timeoutMs: number;
  /** Names this process (agent, bot) in each user's server session list. */
  clientId: string;
  tokens: AccessTokenLifetimes;
  /** An unlocked vault unused this long locks itself. */
  idleLockMs: number;
  /** Replicas held open at most; beyond, the least recently used one is closed (kept in its store, locked). */
  maxOpen: number;
  /** How old the last sync may be before a request starts another in the background. */
  refreshMs: number;
  /**
   * Told of each user's server session as it starts, is renewed and ends (undefined), for a
   * process that keeps sessions across its restarts (the bot's chat links). Left out, sessions
   * live in memory only (the agent).
   */
  onSession?: ((userId: string, session: StoredSession | undefined) => void) | undefined;
  /**
   * What the process derives from a replica (the agent: its list entries and the search index),
   * built as soon as the replica opens and after each sync that changed it, so that requests find
   * it ready instead of the first one after a change paying for it.
   */
  prepare?: ((handle: VaultHandle) => void) | undefined;
  now?: () => number;
}

/** What a caller's request is for: one user, seen through one of that user's tokens. */
export interface Caller {
  user: HeldUser;
  token: string;
}

export interface SyncState {
  /** The last sync did not reach the server: reads are from the replica as last synced. */
  stale: boolean;
  lastSyncAt: number | null;
  /** Why the last sync did not reach the server, in one sentence. */
  problem: string | null;
}

/**
 * One logged-in user of a process serving many (the agent, the bot): the gRPC client with the user's server tokens (in memory),
 * and the replica, opened on first use and closed again when it idles out of the map's room.
 * Changes are announced on `events` ('changed') for the user's event streams.
 */
export class HeldUser {
  readonly events = new EventEmitter();
  private handle: VaultHandle | undefined;
  private opening: Promise<VaultHandle> | undefined;
  private syncing: Promise<SyncOutcome> | undefined;
  /** The sync that follows the one under way, shared by the callers who arrived during it. */
  private following: Promise<SyncOutcome> | undefined;
  private lockTimer: NodeJS.Timeout | undefined;
  private followers = 0;
  private follower: NodeJS.Timeout | undefined;
  /** The server's pokes when the user's version moves (one Watch stream per open replica). */
  private watch: { close(): void } | undefined;
  /** The watch has spoken since it was opened: the replica is as fresh as its pokes. */
  private watched = false;
  /** The idle sweep let go of the search index: the user's return builds it again. */
  private rested = false;
  lastUsedAt: number;
  readonly sync: SyncState = { stale: false, lastSyncAt: null, problem: null };

  constructor(
    readonly userId: string,
    readonly login: string,
    readonly client: KeeperClient,
    private readonly options: HeldUsersOptions,
    private readonly now: () => number,
    /** Makes room among the open replicas before this one opens. */
    private readonly room: (user: HeldUser) => Promise<void>,
    /** The process's calls to the server, data before image transfers. */
    private readonly calls: PriorityGate,
  ) {
    this.lastUsedAt = now();
    this.events.setMaxListeners(0);
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  /** Someone listens to this user's events: the replica is in use even when no request comes. */
  get isFollowed(): boolean {
    return this.followers > 0;
  }

  /** The replica, opened (and first synced) when it is not held; a server out of reach leaves it stale, not failed. */
  async vault(): Promise<VaultHandle> {
    this.touch();
    if (this.handle) {
      if (this.rested) {
        // Back from idle: the search index is built again after this answer, not inside the next search.
        this.rested = false;
        const handle = this.handle;
        setImmediate(() => this.prepare(handle));
      }
      return this.handle;
    }
    this.opening ??= this.openHandle().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /**
   * Syncs now: the answer comes from a sync that started after this call, so an edit made just
   * before is pushed and a change on the server just before is pulled. One sync runs at a time per
   * user; callers arriving while one is under way (it may have pushed and pulled before their
   * change) share the one sync that follows it.
   */
  async syncNow(): Promise<SyncOutcome> {
    // (A sync the server asked for is not the user's use: the idle clocks are left alone.)
    const handle = this.handle ?? (await this.vault());
    if (!this.syncing) return this.startSync(handle);
    this.following ??= this.syncing
      .catch(() => undefined)
      .then(async () => {
        this.following = undefined;
        return this.startSync(this.handle ?? (await this.vault()));
      });
    return this.following;
  }

  /** The sync under way, or a new one. */
  private startSync(handle: VaultHandle): Promise<SyncOutcome> {
    this.syncing ??= this.runSync(handle).finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Starts a sync in the background when the last one is older than the refresh interval. */
  refreshSoon(): void {
    if (this.syncing || !this.handle) return;
    if (this.watched && this.handle.vault.pendingCount === 0) return;
    if (this.sync.lastSyncAt !== null && this.now() - this.sync.lastSyncAt < this.options.refreshMs) return;
    this.syncNow().catch(() => undefined);
  }

  /**
   * A caller wants to hear of changes as they happen (an event stream): while anyone follows, the
   * replica is kept current by the server's pokes, or by a sync every refresh interval while its
   * Watch is not heard. Returns the way to stop following.
   */
  follow(): () => void {
    this.followers++;
    // Polling only stands in for the server's pokes when its Watch is not heard.
    this.follower ??= setInterval(() => {
      if (this.handle && !this.watched) this.refreshSoon();
    }, this.options.refreshMs);
    this.follower.unref();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.followers--;
      if (this.followers > 0) return;
      clearInterval(this.follower);
      this.follower = undefined;
    };
  }

  /** Lets go of what search built (decrypted values among it) when the user has been idle a while. */
  restIfIdle(idleMs: number): void {
    if (this.handle && this.now() - this.lastUsedAt >= idleMs) {
      this.handle.vault.forgetSearch();
      this.rested = true;
    }
  }

  stopFollowing(): void {
    clearInterval(this.follower);
    this.follower = undefined;
    this.followers = 0;
  }

  async unlock(secret: string): Promise<void> {
    const handle = await this.vault();
    if (!handle.vault.encrypted) throw new KeeperFailure('invalid', 'the vault is not encrypted: there is nothing to unlock');
    await handle.unlock(secret);
    this.armLock();
    this.events.emit('changed', { reason: 'unlocked', version: handle.vault.version });
  }

  async lock(): Promise<void> {
    clearTimeout(this.lockTimer);
    this.lockTimer = undefined;
    if (!this.handle) return;
    await this.handle.lock();
    this.events.emit('changed', { reason: 'locked', version: this.handle.vault.version });
  }

  /** Closes the replica (saved, the key wiped); the user stays logged in and the next call reopens it, locked. */
  async evict(): Promise<void> {
    this.watch?.close();
    this.watch = undefined;
    this.watched = false;
    clearTimeout(this.lockTimer);
    this.lockTimer = undefined;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await handle.close();
  }

  /** Counts as use: restarts the idle lock. */
  touch(): void {
    this.lastUsedAt = this.now();
    if (this.handle?.vault.unlocked) this.armLock();
  }

  private armLock(): void {
    clearTimeout(this.lockTimer);
    this.lockTimer = setTimeout(() => void this.lock().catch(() => undefined), this.options.idleLockMs);
    this.lockTimer.unref();
  }

  private async openHandle(): Promise<VaultHandle> {
    await this.room(this);
    const handle = await VaultHandle.open({
      client: this.client,
      server: this.options.channel.server,
      home: this.options.home,
      userId: this.userId,
      clientId: this.options.clientId,
    });
    this.handle = handle;
    // Watching first: a first sync that fails still leaves the replica told when to try again.
    this.startWatching(handle);
    // (A poke arriving meanwhile shares this sync instead of starting another.)
    this.syncing = this.runSync(handle).finally(() => (this.syncing = undefined));
    await this.syncing;
    // (Again when the sync changed something: the second time finds it built.)
    this.prepare(handle);
    return handle;
  }

  /** Syncs when the server says the version moved (or, back after an outage, when edits wait). */
  private startWatching(handle: VaultHandle): void {
    this.watch = this.client.watch(
      (told) => {
        this.watched = true;
        if (this.handle !== handle) return;
        this.catchUp(handle, told.version).catch(() => undefined);
      },
      {
        sinceVersion: handle.vault.version,
        onRetry: () => {
          this.watched = false;
        },
        onError: () => {
          // The session ended or the server has no Watch: requests and followers poll instead.
          this.watched = false;
          this.watch = undefined;
        },
      },
    );
  }

  /**
   * A poke: the server is at `version`. A sync under way may already bring the replica there (the
   * first one after opening does, when the Watch's first message comes during it), so it is waited
   * out and another runs only when the replica is still behind or edits still wait.
   */
  private async catchUp(handle: VaultHandle, version: number): Promise<void> {
    await this.syncing?.catch(() => undefined);
    if (this.handle !== handle) return;
    if (version > handle.vault.version || handle.vault.pendingCount > 0) await this.syncNow();
  }

  /** Derived data is an optimisation: a failure to build it early leaves it to the next request, which says why. */
  private prepare(handle: VaultHandle): void {
    if (this.handle !== handle) return;
    try {
      this.options.prepare?.(handle);
    } catch {
      // (The request that needs it builds it again and fails with a sentence if it still cannot.)
    }
  }

  /** An image transfer: it waits while the server is busy with users' data, a few at a time. */
  transfer<T>(work: (handle: VaultHandle) => Promise<T>): Promise<T> {
    return this.vault().then((handle) => this.calls.run('bulk', () => work(handle)));
  }

  private async runSync(handle: VaultHandle): Promise<SyncOutcome> {
    const before = handle.vault.version;
    try {
      const outcome = await this.calls.run('data', () => handle.sync());
      const wasStale = this.sync.stale;
      this.sync.lastSyncAt = this.now();
      this.sync.stale = !outcome.online;
      this.sync.problem = outcome.online ? null : outcome.failure.message;
      const conflicts = outcome.online ? outcome.report.conflicts.map((c) => ({ recordId: c.recordId, kind: c.kind, parts: c.parts, ...(c.copyId !== undefined ? { copyId: c.copyId } : {}) })) : [];
      if (outcome.online && (outcome.report.version !== before || outcome.report.changed.length > 0 || conflicts.length > 0)) {
        // (Not for a user gone idle: what the sweep let go of waits for the user's return.)
        if (this.now() - this.lastUsedAt < SEARCH_IDLE_MS) this.prepare(handle);
        // After a snapshot anything may have changed: `all` says so instead of listing every record.
        this.events.emit('changed', { reason: 'synced', version: outcome.report.version, changed: outcome.report.changed, all: outcome.report.transfer === 'snapshot', conflicts });
      } else if (wasStale !== this.sync.stale) {
        // Followers show whether the server is reached: losing it (or getting it back) is news too.
        this.events.emit('changed', { reason: outcome.online ? 'online' : 'offline', version: handle.vault.version });
      }
      return outcome;
    } catch (error) {
      this.sync.lastSyncAt = this.now();
      throw failureOf(error, this.options.channel.server);
    }
  }
}

/**
 * Every user logged in through one process (the agent, the bot), and the access tokens that stand for them: several
 * callers may share a user; the user's server session ends with its last caller.
 */
export class HeldUsers {
  private readonly users = new Map<string, HeldUser>();
  readonly tokens: AccessTokens;
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout;
  /**
   * The server counts attempts in flight from one address as possible guesses, and every login
   * through this process comes from its address: logins reach the server a few at a time (bcrypt
   * keeps the server's cores busy anyway), the rest wait here.
   */
  private readonly logins = new Gate(LOGINS_AT_ONCE);
  /** Every call this process makes to the server for its users' data and pictures. */
  private readonly calls = new PriorityGate(CALLS_AT_ONCE, TRANSFERS_AT_ONCE);

  constructor(private readonly options: HeldUsersOptions) {
    this.now = options.now ?? Date.now;
    this.tokens = new AccessTokens(options.tokens, this.now);
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  get size(): number {
    return this.users.size;
  }

  get openCount(): number {
    let open = 0;
    for (const user of this.users.values()) if (user.isOpen) open++;
    return open;
  }

  /** Logs in over gRPC and hands out a new access token for the user. */
  login(login: string, password: string): Promise<{ user: HeldUser; token: string; expiresAt: number }> {
    return this.enter(login, (client) => client.login(login, password));
  }

  register(login: string, password: string): Promise<{ user: HeldUser; token: string; expiresAt: number }> {
    return this.enter(login, (client) => client.register(login, password));
  }

  /**
   * A user again from a server session the process kept (the bot's links after a restart): no
   * password and no call to the server now; the first use renews the tokens, or finds the session
   * ended.
   */
  resume(session: StoredSession): { user: HeldUser; token: string; expiresAt: number } {
    let user = this.users.get(session.userId);
    if (!user) {
      const store = new MemoryTokenStore(session);
      const client = new KeeperClient(this.options.channel, store, this.options.timeoutMs, this.options.clientId);
      user = this.hold(session, client, store);
    }
    const { token, expiresAt } = this.tokens.issue(user.userId);
    return { user, token, expiresAt };
  }

  /** The caller a token stands for, or undefined when it is unknown or ended. */
  caller(token: string): Caller | undefined {
    const grant = this.tokens.use(token);
    const user = grant && this.users.get(grant.userId);
    return user && { user, token };
  }

  /** Ends one caller's token; with the user's last caller the server session ends and the replica closes. */
  async logout(caller: Caller): Promise<void> {
    this.tokens.revoke(caller.token);
    if (this.tokens.countOf(caller.user.userId) > 0) return;
    await this.drop(caller.user);
  }

  /**
   * Locks and closes every replica and ends every server session (within the call timeout); with
   * `endSessions: false` the sessions go on for the next start to resume (the bot's links), while
   * every vault key is wiped all the same.
   */
  async close(options: { endSessions?: boolean } = {}): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.users.values()].map((user) => this.drop(user, options.endSessions ?? true)));
  }

  /** Room for one more open replica: the least recently used open one beyond the cap is closed. */
  async makeRoom(keep: HeldUser): Promise<void> {
    const open = [...this.users.values()].filter((user) => user.isOpen && !user.isFollowed && user !== keep);
    const excess = open.length + 1 - this.options.maxOpen;
    if (excess <= 0) return;
    open.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    await Promise.all(open.slice(0, excess).map((user) => user.evict()));
  }

  private async enter(login: string, start: (client: KeeperClient) => Promise<StoredSession>) {
    const store = new MemoryTokenStore();
    const client = new KeeperClient(this.options.channel, store, this.options.timeoutMs, this.options.clientId);
    let session: StoredSession;
    try {
      session = await this.logins.run(() => start(client));
    } catch (error) {
      client.close();
      throw failureOf(error, this.options.channel.server);
    }
    let user = this.users.get(session.userId);
    if (user) {
      // The user is held already with a server session of its own: the one just opened only proved the password.
      await client.logout().catch(() => undefined);
      client.close();
    } else {
      user = this.hold(session, client, store);
    }
    const { token, expiresAt } = this.tokens.issue(user.userId);
    return { user, token, expiresAt };
  }

  private hold(session: StoredSession, client: KeeperClient, store: MemoryTokenStore): HeldUser {
    const user = new HeldUser(session.userId, session.login, client, this.options, this.now, (opening) => this.makeRoom(opening), this.calls);
    this.users.set(session.userId, user);
    const told = this.options.onSession;
    if (told) {
      store.onChange = (changed) => told(user.userId, changed);
      told(user.userId, session);
    }
    return user;
  }

  private async drop(user: HeldUser, endSession = true): Promise<void> {
    this.users.delete(user.userId);
    user.stopFollowing();
    this.tokens.revokeUser(user.userId);
    await user.evict().catch(() => undefined);
    user.events.emit('ended');
    if (endSession) await user.client.logout().catch(() => undefined);
    user.client.close();
  }

  /** Users whose every token ended (idle or too old) are logged out; idle users' search indexes go. */
  private async sweep(): Promise<void> {
    for (const user of this.users.values()) user.restIfIdle(SEARCH_IDLE_MS);
    for (const userId of this.tokens.sweep()) {
      const user = this.users.get(userId);
      if (user) await this.drop(user);
    }
  }
}
