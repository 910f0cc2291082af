import type { Logger } from 'pino';
import type { ClientConfig } from '../../config/client-config.js';
import { loadUnlockedKey } from '../cli/vault-session.js';
import { isServiceError, status as grpcStatus } from '../grpc-channel.js';
import { KeeperClient, NotLoggedIn } from '../keeper-client.js';
import { SessionStore, type StoredSession } from '../session-store.js';
import { SyncEngine, type SyncReport } from '../sync/sync-engine.js';

export function isUnreachable(error: unknown): boolean {
  return isServiceError(error) && (error.code === grpcStatus.UNAVAILABLE || error.code === grpcStatus.DEADLINE_EXCEEDED);
}

export type Connection = 'connecting' | 'online' | 'offline';

export interface SessionOptions {
  config: Pick<ClientConfig, 'server' | 'home' | 'tls' | 'tlsCa' | 'timeoutMs'>;
  clientId: string;
  /** KEEPER_SESSION from `keeper unlock`: the vault opens without asking for the secret word. */
  sessionSecret?: string | undefined;
  logger: Logger;
  now?: () => number;
}

/**
 * The TUI's hold on the client core: the gRPC client and session file for one server, the sync
 * engine of the logged-in user, and what the status bar needs to know about syncing. Every use
 * of the engine goes through `exclusive`, one at a time, because a background sync and an edit
 * typed meanwhile must not interleave their cache writes.
 */
export class TuiSession {
  client: KeeperClient;
  server: string;
  engine: SyncEngine | undefined;
  user: StoredSession | undefined;
  connection: Connection = 'connecting';
  syncing = false;
  /** When the last sync succeeded (local clock). */
  syncedAt: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: SessionOptions) {
    this.server = options.config.server;
    this.client = this.connect(this.server);
    this.now = options.now ?? Date.now;
  }

  /** KEEPER_HOME: the local cache, logs, and the default place for saved images. */
  get home(): string {
    return this.options.config.home;
  }

  private connect(server: string): KeeperClient {
    const { config } = this.options;
    return new KeeperClient({ server, tls: config.tls, tlsCa: config.tlsCa }, new SessionStore(config.home, server), config.timeoutMs, this.options.clientId);
  }

  /** Talks to another server from now on (the connect screen's address box). */
  useServer(server: string): void {
    if (server === this.server) return;
    this.client.close();
    this.server = server;
    this.client = this.connect(server);
    this.connection = 'connecting';
    this.syncedAt = undefined;
  }

  /** The session kept from an earlier login on this server, if any. */
  async savedUser(): Promise<StoredSession | undefined> {
    this.user = await this.client.currentSession();
    return this.user;
  }

  async logIn(login: string, password: string, register: boolean): Promise<StoredSession> {
    this.user = register ? await this.client.register(login, password) : await this.client.login(login, password);
    this.connection = 'online';
    return this.user;
  }

  /**
   * Opens the user's local replica (works offline). An encrypted cache asks `askSecret`; a
   * wrong word throws WrongSecretWord and changes nothing, so the caller may simply ask again.
   */
  async openVault(askSecret: () => Promise<string>): Promise<SyncEngine> {
    const user = this.user ?? (await this.savedUser());
    if (!user) throw new NotLoggedIn('not logged in: log in first');
    await this.closeVault();
    const vaultKey = await loadUnlockedKey(this.options.config.home, this.server, user.userId, this.options.sessionSecret);
    this.engine = await SyncEngine.open({
      client: this.client,
      server: this.server,
      home: this.options.config.home,
      userId: user.userId,
      clientId: this.options.clientId,
      askSecret,
      ...(vaultKey ? { vaultKey } : {}),
    });
    return this.engine;
  }

  /** Runs `work` on the engine after everything queued before it. */
  exclusive<T>(work: (engine: SyncEngine) => Promise<T>): Promise<T> {
    const engine = this.engine;
    if (!engine) return Promise.reject(new NotLoggedIn('not logged in: log in first'));
    const run = this.queue.then(() => work(engine));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Pull, rebase, push; keeps the online / offline state for the status bar. */
  async sync(): Promise<SyncReport> {
    this.syncing = true;
    try {
      const report = await this.exclusive((engine) => engine.sync());
      this.connection = 'online';
      this.syncedAt = this.now();
      return report;
    } catch (error) {
      if (isUnreachable(error)) this.connection = 'offline';
      else if (!(error instanceof NotLoggedIn)) this.connection = 'online';
      this.options.logger.debug({ err: error }, 'sync failed');
      throw error;
    } finally {
      this.syncing = false;
    }
  }

  /** Saves the cache (when the key is at hand), forgets the key and lets go of the engine. */
  async closeVault(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    await this.exclusive(() => engine.save());
    engine.lock();
    this.engine = undefined;
  }

  close(): void {
    this.client.close();
  }
}
