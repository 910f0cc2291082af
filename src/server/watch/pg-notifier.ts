import type { Logger } from 'pino';
import type { SqlExecutor } from '../sql/database.js';
import { isTransientDatabaseError } from '../sql/transient-errors.js';
import { PgListener, type PgListenerOptions } from './pg-listener.js';
import type { VersionChange, VersionNotifier, VersionSubscriber } from './port.js';
import { WakeablePause } from '../../lib/wakeable-pause.js';

/** The channel every Keeper server on a database publishes and listens on (channels span the database, not a schema). */
export const VERSION_CHANNEL = 'keeper_user_version';

export interface PgVersionNotifierOptions extends Omit<PgListenerOptions, 'channel'> {
  /** Where NOTIFY is sent from: the server's pool (the listening connection may be down when a change commits). */
  db: SqlExecutor;
  channel?: string;
}

/** Users' versions sent in one statement at most. */
const BATCH = 500;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * The notifier across server processes on one PostgreSQL: a change is sent with NOTIFY (payload
 * `userId:version`) after its append committed, and each process LISTENs on a connection of its
 * own (opened on the first subscribe, kept open by PgListener). Changes waiting to be sent are
 * kept per user, only the latest, and sent together: a burst costs one statement, and a send that
 * fails for a moment (the pool lost a connection) is retried rather than lost.
 */
export class PgVersionNotifier implements VersionNotifier {
  private readonly subscribers = new Set<VersionSubscriber>();
  private readonly unsent = new Map<string, number>();
  private sending: Promise<void> | undefined;
  private listener: PgListener | undefined;
  private closed = false;
  private readonly pauses = new WakeablePause();
  private readonly channel: string;

  constructor(private readonly options: PgVersionNotifierOptions) {
    this.channel = options.channel ?? VERSION_CHANNEL;
  }

  publish(change: VersionChange): void {
    if (this.closed) return;
    // This process's watchers need not wait for the round trip through the database (nor for the
    // listening connection to be up); the copy that comes back is a version they already have.
    this.deliver(change);
    if ((this.unsent.get(change.userId) ?? -1) < change.version) this.unsent.set(change.userId, change.version);
    this.startSending();
  }

  subscribe(subscriber: VersionSubscriber): () => void {
    this.subscribers.add(subscriber);
    if (!this.listener && !this.closed) {
      this.listener = new PgListener(
        { ...this.options, channel: this.channel },
        {
          notification: (payload) => {
            const change = decodeChange(payload);
            if (change) this.deliver(change);
          },
          listening: () => {
            for (const each of [...this.subscribers]) each.missed();
          },
        },
      );
      this.listener.start();
    }
    return () => this.subscribers.delete(subscriber);
  }

  ready(): Promise<void> {
    return this.listener?.ready() ?? Promise.resolve();
  }

  /** Sends what is still unsent (one try), then stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    this.pauses.wake();
    await this.sending;
    if (this.unsent.size > 0) await this.sendUnsent();
    this.subscribers.clear();
    await this.listener?.close();
  }

  private deliver(change: VersionChange): void {
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber.changed({ ...change });
      } catch (error) {
        this.options.logger?.error({ err: error }, 'a watcher failed to take a vault change');
      }
    }
  }

  private startSending(): void {
    if (this.sending || this.unsent.size === 0) return;
    this.sending = this.sendUnsent().finally(() => {
      this.sending = undefined;
      // A change published after the last batch was taken, but before this ran, still goes.
      if (!this.closed) this.startSending();
    });
  }

  private async sendUnsent(): Promise<void> {
    let failures = 0;
    while (this.unsent.size > 0) {
      const batch = [...this.unsent].slice(0, BATCH);
      for (const [userId] of batch) this.unsent.delete(userId);
      try {
        await this.options.db.query(
          'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload',
          [this.channel, batch.map(([userId, version]) => encodeChange({ userId, version }))],
          { name: 'keeper_notify_versions' },
        );
        failures = 0;
      } catch (error) {
        if (!isTransientDatabaseError(error)) {
          // A fault no retry mends: other servers' watchers hear of these users at their next change.
          this.options.logger?.error({ err: error, users: batch.length }, 'could not tell other servers of vault changes');
          continue;
        }
        // Not sent: back in the queue unless a newer version of the same user came meanwhile.
        for (const [userId, version] of batch) if ((this.unsent.get(userId) ?? -1) < version) this.unsent.set(userId, version);
        if (this.closed) return;
        // The database's own outage log tells of the fault. Other servers' listeners have likely
        // lost the database too, and look again at every watched user once they have it back.
        failures += 1;
        await this.pauses.wait(Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(failures - 1, 20)));
      }
    }
  }
}

export function encodeChange(change: VersionChange): string {
  return `${change.userId}:${change.version}`;
}

/** The change a payload names, or undefined for a payload no Keeper server sent. */
export function decodeChange(payload: string): VersionChange | undefined {
  const at = payload.lastIndexOf(':');
  if (at <= 0) return undefined;
  const version = Number(payload.slice(at + 1));
  if (!/^\d+$/.test(payload.slice(at + 1)) || !Number.isSafeInteger(version)) return undefined;
  return { userId: payload.slice(0, at), version };
}
