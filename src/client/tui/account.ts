import type { Logger } from 'pino';
import type { ClientConfig } from '../../config/client-config.js';
import { failureOf, isOffline, KeeperFailure } from '../core/failures.js';
import { openLoggedInVault, type VaultHandle } from '../core/vault-handle.js';
import { KeeperClient } from '../keeper-client.js';
import { FileTokenStore, type StoredSession } from '../token-store.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import type { SyncReport } from '../sync/sync-protocol.js';

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
 * The account the TUI works with: the gRPC client and saved login for one server, the vault
 * of the logged-in user, and what the status bar needs to know about syncing.
 */
export class TuiAccount {
  client: KeeperClient;
  server: string;
  vault: VaultHandle | undefined;
  user: StoredSession | undefined;
  connection: Connection = 'connecting';
  syncing = false;
  /** When the last sync succeeded (local clock). */
  syncedAt: number | undefined;
  /** Told what happened to an image upload that waited for the server (sent, or dropped and why). */
  onNews: ((sentence: string) => void) | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SessionOptions) {
    this.server = options.config.server;
    this.client = this.connect(this.server);
    this.now = options.now ?? Date.now;
  }

  /** The open vault's replica, for reading (changes go through `exclusive`). */
  get engine(): SyncEngine | undefined {
    return this.vault?.vault;
  }

  private connect(server: string): KeeperClient {
    const { config } = this.options;
    return new KeeperClient({ server, tls: config.tls, tlsCa: config.tlsCa }, new FileTokenStore(config.home, server), config.timeoutMs, this.options.clientId);
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
  async openVault(askSecret: () => Promise<string>): Promise<VaultHandle> {
    await this.closeVault();
    const { home } = this.options.config;
    this.vault = await openLoggedInVault({
      client: this.client,
      server: this.server,
      home,
      clientId: this.options.clientId,
      askSecret,
      unlockSecret: this.options.sessionSecret,
      onNews: (sentence) => this.onNews?.(sentence),
    });
    this.user ??= await this.client.currentSession();
    return this.vault;
  }

  /** Runs `work` on the replica after everything queued before it. */
  exclusive<T>(work: (engine: SyncEngine) => Promise<T>): Promise<T> {
    if (!this.vault) return Promise.reject(new KeeperFailure('not-logged-in', 'not logged in'));
    return this.vault.exclusive(work);
  }

  /** Pull, rebase, push; keeps the online / offline state for the status bar. */
  async sync(): Promise<SyncReport> {
    this.syncing = true;
    try {
      if (!this.vault) throw new KeeperFailure('not-logged-in', 'not logged in');
      const report = await this.vault.syncOnline();
      this.connection = 'online';
      this.syncedAt = this.now();
      return report;
    } catch (error) {
      if (isOffline(error)) this.connection = 'offline';
      else if (!needsLogin(error)) this.connection = 'online';
      this.options.logger.debug({ err: error }, 'sync failed');
      throw error;
    } finally {
      this.syncing = false;
    }
  }

  /** Saves the cache (when the key is at hand), forgets the key and lets go of the vault. */
  async closeVault(): Promise<void> {
    const vault = this.vault;
    if (!vault) return;
    await vault.close();
    this.vault = undefined;
  }

  close(): void {
    this.client.close();
  }
}

/** The session is gone (never there, or ended): only logging in again helps. */
export function needsLogin(error: unknown): boolean {
  const kind = failureOf(error).kind;
  return kind === 'not-logged-in' || kind === 'session-ended';
}
