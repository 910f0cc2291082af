import type { Logger } from 'pino';
import { WrongSecretWord } from '../crypto/index.js';
import { Cancelled, describe, loginAgain, offlineNotice } from './failures.js';
import type { Notices } from './notices.js';
import { isOffline } from '../core/failures.js';
import { needsLogin, type TuiAccount } from './account.js';
import { isLocked, type Screen } from './state.js';
import { beforeSync, reportSync, type SyncWhy } from './sync-news.js';
import type { VaultView } from './vault-view.js';

const SYNC_EVERY_MS = 15_000;
const SYNC_AFTER_EDIT_MS = 300;
/** While an image attached here is being processed, syncs come this often (for so long) to show it ready. */
const SYNC_WHILE_PROCESSING_MS = 2_000;
const WATCH_PROCESSING_MS = 120_000;

export interface SyncLoopOptions {
  account: TuiAccount;
  screen: Screen;
  view: VaultView;
  notices: Notices;
  logger: Logger;
  now: () => number;
  /** How often the background sync runs. */
  syncEveryMs?: number | undefined;
  draw: () => void;
  quitting: () => boolean;
  quit: () => void;
  /** The session ended: back to the connect screen, saying why. */
  toLogin: (problem: string) => void;
  /** The engine was given a wrong secret word during a sync: the next prompt says so. */
  wrongSecret: () => void;
}

/**
 * The background sync: every so often, soon after an edit, more often while an image attached
 * here is processed, and when the user asks. One sync runs at a time; one asked for meanwhile
 * runs right after it.
 */
export class SyncLoop {
  private running = false;
  private again = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private imageTimer: NodeJS.Timeout | undefined;
  /** Images attached from here and still processing, until when to sync sooner for them. */
  private readonly watching = new Map<string, number>();
  /** Images attached or removed from here, so a sync does not report them as news from elsewhere. */
  private readonly ownImages = new Set<string>();

  constructor(private readonly o: SyncLoopOptions) {}

  start(): void {
    this.stop();
    this.syncTimer = setInterval(() => void this.syncNow('auto'), this.o.syncEveryMs ?? SYNC_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.syncTimer);
    clearTimeout(this.soonTimer);
    clearTimeout(this.imageTimer);
    this.syncTimer = this.soonTimer = this.imageTimer = undefined;
  }

  syncSoon(): void {
    clearTimeout(this.soonTimer);
    this.soonTimer = setTimeout(() => void this.syncNow('edit'), SYNC_AFTER_EDIT_MS);
  }

  /** An image attached or removed from here. */
  own(imageId: string): void {
    this.ownImages.add(imageId);
  }

  /** An image attached from here that the server processes: sync sooner until it is done. */
  watch(imageId: string): void {
    this.watching.set(imageId, this.o.now() + WATCH_PROCESSING_MS);
  }

  async syncNow(why: SyncWhy): Promise<void> {
    const { account, screen } = this.o;
    const engine = account.engine;
    if (!engine || isLocked(screen.mode) || this.o.quitting()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const wasOffline = account.connection === 'offline';
    const before = beforeSync(engine, screen.main, screen.overlays);
    this.o.draw();
    try {
      const report = await account.sync();
      reportSync(report, before, {
        engine: account.engine!,
        server: account.server,
        why,
        wasOffline,
        main: screen.main,
        overlays: screen.overlays,
        ownImages: this.ownImages,
        nameOf: (recordId, fallback) => this.o.view.nameOf(recordId, fallback),
        say: (text, level) => this.o.notices.say(text, level),
      });
    } catch (error) {
      if (error instanceof WrongSecretWord) {
        this.o.wrongSecret();
        this.again = true;
      } else if (error instanceof Cancelled) {
        this.o.quit();
      } else if (needsLogin(error)) {
        this.o.toLogin(loginAgain(error));
      } else if (isOffline(error)) {
        if (!wasOffline || why === 'user') this.o.notices.say(offlineNotice(error, account.server), 'warn');
      } else {
        this.o.notices.say(`sync failed: ${describe(error, account.server)}`, 'error');
        this.o.logger.warn({ err: error }, 'sync failed');
      }
    } finally {
      this.running = false;
      // The engine asked for the secret word during this sync; it has its answer now.
      if (screen.mode.kind === 'secret' && screen.mode.purpose === 'open') screen.mode = { kind: 'main' };
      this.o.view.changed();
      this.o.draw();
    }
    if (this.again && !this.o.quitting()) {
      this.again = false;
      await this.syncNow('auto');
    }
    this.watchProcessing();
  }

  /** Syncs again soon while an image attached from here is still being processed, so "ready" shows without waiting. */
  private watchProcessing(): void {
    const engine = this.o.account.engine;
    clearTimeout(this.imageTimer);
    this.imageTimer = undefined;
    if (!engine || this.o.quitting() || isLocked(this.o.screen.mode)) return;
    for (const [id, until] of this.watching) {
      if (engine.image(id)?.status !== 'processing' || this.o.now() > until) this.watching.delete(id);
    }
    if (this.watching.size > 0) this.imageTimer = setTimeout(() => void this.syncNow('auto'), SYNC_WHILE_PROCESSING_MS);
  }
}
