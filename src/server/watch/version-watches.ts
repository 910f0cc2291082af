import type { VersionChange, VersionNotifier } from './port.js';

export interface VersionInfo {
  version: number;
  /** Unix ms of the last change; 0 for an empty vault. */
  lastModifiedAt: number;
}

/** Ends every watch of a stopping server: its callers watch again, through another server or this one once it is back. */
export class WatchesDrained extends Error {
  constructor() {
    super('the server is stopping; watch again');
    this.name = 'WatchesDrained';
  }
}

/**
 * One Watch call: the version it is to be told next. A newer version replaces one not yet sent
 * (a slow caller gets the latest, not a backlog); after the first message only versions above
 * the last one sent and the caller's own go out.
 */
class Watcher {
  private next: VersionInfo | undefined;
  private floor: number;
  private sentFirst = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(
    sinceVersion: number,
    private readonly stop: AbortSignal,
  ) {
    this.floor = sinceVersion;
    stop.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  offer(info: VersionInfo): void {
    const newer = info.version > (this.next?.version ?? -1);
    if (newer && (!this.sentFirst || info.version > this.floor)) {
      this.next = info;
      this.wake?.();
    }
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake?.();
  }

  /** The next version to send; undefined once the call is cancelled. */
  async take(): Promise<VersionInfo | undefined> {
    for (;;) {
      if (this.stop.aborted) return undefined;
      if (this.failure) throw this.failure.error;
      const next = this.next;
      if (next) {
        this.next = undefined;
        this.sentFirst = true;
        this.floor = Math.max(this.floor, next.version);
        return next;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

interface FollowedUser {
  watchers: Set<Watcher>;
  /** The highest version read for this user: a notification of it, or of less, needs no read. */
  known: number;
  reading: boolean;
  /** Something happened after the read under way began: read again when it is done. */
  again: boolean;
}

/**
 * This process's Watch calls, by user. A notification of a user's change (from this process or,
 * through the notifier, from another) makes one read of the user's current version, shared by
 * all the user's watchers here; notifications that come while it runs make one more, not one
 * each. The version is always read, never taken from the notification, so a lost or reordered
 * notification can only delay a poke; after the notifier says some may have been missed,
 * every followed user is read again.
 */
export class VersionWatches {
  private readonly users = new Map<string, FollowedUser>();
  private draining = false;
  private readonly unsubscribe: () => void;

  constructor(
    notifier: Pick<VersionNotifier, 'subscribe'>,
    private readonly read: (userId: string) => Promise<VersionInfo>,
  ) {
    this.unsubscribe = notifier.subscribe({
      changed: (change) => this.changed(change),
      missed: () => {
        for (const userId of this.users.keys()) this.refresh(userId);
      },
    });
  }

  /** Open Watch calls in this process. */
  get size(): number {
    let count = 0;
    for (const user of this.users.values()) count += user.watchers.size;
    return count;
  }

  /**
   * Sends the user's current version at once, then each newer one, until `stop` is aborted (then
   * it resolves) or the version cannot be read or the server drains (then it throws).
   */
  async follow(userId: string, sinceVersion: number, send: (info: VersionInfo) => Promise<void>, stop: AbortSignal): Promise<void> {
    if (this.draining) throw new WatchesDrained();
    const watcher = new Watcher(sinceVersion, stop);
    let user = this.users.get(userId);
    if (!user) {
      user = { watchers: new Set(), known: -1, reading: false, again: false };
      this.users.set(userId, user);
    }
    user.watchers.add(watcher);
    // The first message comes from a read begun after this watcher joined, so no change falls between.
    this.refresh(userId);
    try {
      for (;;) {
        const info = await watcher.take();
        if (!info) return;
        await send(info);
      }
    } finally {
      user.watchers.delete(watcher);
      if (user.watchers.size === 0 && this.users.get(userId) === user) this.users.delete(userId);
    }
  }

  /** Ends every watch (WatchesDrained) and refuses new ones: the server is stopping. */
  drain(): void {
    this.draining = true;
    this.unsubscribe();
    for (const user of this.users.values()) for (const watcher of user.watchers) watcher.fail(new WatchesDrained());
  }

  private changed(change: VersionChange): void {
    const user = this.users.get(change.userId);
    if (user && change.version > user.known) this.refresh(change.userId);
  }

  private refresh(userId: string): void {
    const user = this.users.get(userId);
    if (!user) return;
    if (user.reading) {
      user.again = true;
      return;
    }
    user.reading = true;
    void this.readFor(userId, user);
  }

  private async readFor(userId: string, user: FollowedUser): Promise<void> {
    try {
      do {
        user.again = false;
        const info = await this.read(userId);
        user.known = Math.max(user.known, info.version);
        for (const watcher of user.watchers) watcher.offer(info);
      } while (user.again && user.watchers.size > 0);
    } catch (error) {
      // The callers hear the fault (UNAVAILABLE for a lost database) and watch again, which reads afresh.
      for (const watcher of user.watchers) watcher.fail(error);
    } finally {
      user.reading = false;
    }
  }
}
