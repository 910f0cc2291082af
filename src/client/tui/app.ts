import { CodeTicker } from './code-ticker.js';
import { totpFields } from '../core/totp.js';
import type { Logger } from 'pino';
import { AutoLock } from './auto-lock.js';
import type { Clipboard } from './clipboard.js';
import { Cancelled, describe, loginAgain } from './failures.js';
import { ImageActions } from './image-actions.js';
import { TransferActions } from './transfer-actions.js';
import type { Key } from './kit/keys.js';
import { mainLayout, tooSmall } from './kit/layout.js';
import { mainKey, type MainKeyContext } from './main-keys.js';
import { Notices } from './notices.js';
import { FileOpener, findOpener } from './opener.js';
import { overlayKey, type OverlayKeyContext } from './overlay-keys.js';
import { Painter } from './painter.js';
import { RecordActions } from './record-actions.js';
import { loginKey, secretKey } from './screens/login.js';
import { needsLogin, type TuiAccount } from './account.js';
import { screenState, type Screen } from './state.js';
import { SyncLoop } from './sync-loop.js';
import { VaultAccess } from './vault-access.js';
import { VaultView } from './vault-view.js';
import type { Widgets } from './widgets.js';

export interface AppOptions {
  account: TuiAccount;
  widgets: Widgets;
  clipboard: Clipboard;
  /** Idle time before the screen locks; 0 never locks. */
  autoLockMs: number;
  logger: Logger;
  /** How often the background sync runs. */
  syncEveryMs?: number;
  /** What "open" hands a saved image to (xdg-open); found on PATH when not given. */
  opener?: FileOpener;
  now?: () => number;
}

/**
 * The terminal UI: which screen is up and what each key does there. Data and rules come from
 * the client core (sync engine, search, crypto) through the account; the painter draws the
 * state with the pure view functions. The app wires its parts together, sends each key to the
 * screen that owns it, and turns any failure into a message.
 */
export class App {
  private readonly screen: Screen = screenState();
  private quitting = false;
  private destroyed = false;
  private finished!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.finished = resolve));
  private readonly now: () => number;
  private readonly painter: Painter;
  private readonly notices: Notices;
  private readonly view: VaultView;
  private readonly autoLock: AutoLock;
  private readonly sync: SyncLoop;
  private readonly access: VaultAccess;
  private readonly keys: MainKeyContext & OverlayKeyContext;
  private readonly codes: CodeTicker;

  constructor(private readonly o: AppOptions) {
    this.now = o.now ?? Date.now;
    this.painter = new Painter(o.widgets, this.now);
    const { account, logger, clipboard } = o;
    const screen = this.screen;
    const draw = () => this.draw();
    const act = (work: () => Promise<void>) => this.act(work);
    const quitting = () => this.quitting;
    const notices = (this.notices = new Notices({ now: this.now, draw, quitting }));
    const view = (this.view = new VaultView(account, screen));
    account.onNews = (sentence) => notices.say(sentence, 'info');
    this.autoLock = new AutoLock({
      ms: o.autoLockMs,
      armed: () => screen.mode.kind === 'main' && !this.quitting,
      lock: () => this.act(() => this.access.lock('idle')),
    });
    const sync = (this.sync = new SyncLoop({
      account,
      screen,
      view,
      notices,
      logger,
      now: this.now,
      syncEveryMs: o.syncEveryMs,
      draw,
      quitting,
      quit: () => void this.quit(),
      toLogin: (problem) => this.access.toLogin(problem),
      wrongSecret: () => this.access.wrongSecret(),
    }));
    const access = (this.access = new VaultAccess({ account, screen, view, notices, sync, autoLock: this.autoLock, clipboard, draw, act }));
    this.keys = {
      screen,
      view,
      notices,
      sync,
      access,
      records: new RecordActions({ account, screen, view, notices, sync, clipboard, draw }),
      images: new ImageActions({ account, screen, view, notices, sync, opener: o.opener ?? new FileOpener(findOpener(process.env)), logger, act }),
      transfers: new TransferActions({ account, screen, notices, sync }),
      listHeight: () => Math.max(1, mainLayout(o.widgets.width, o.widgets.height).list.height - 2),
      act,
      quit: () => void this.quit(),
    };
    this.codes = new CodeTicker(() => screen.mode.kind === 'main' && totpFields(view.selected() ?? { fields: [] }).length > 0, draw);
  }

  private get account(): TuiAccount {
    return this.o.account;
  }

  /** Runs until the user quits. */
  run(): Promise<void> {
    this.o.widgets.onKey((key) => this.onKey(key));
    this.o.widgets.onResize(() => this.draw());
    this.draw();
    this.codes.start();
    this.act(() => this.access.start());
    return this.done;
  }

  /** Saves the local copy, empties the clipboard if a value may be on it, and ends. */
  async quit(): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    this.sync.stop();
    this.autoLock.stop();
    this.codes.stop();
    this.notices.say('saving the local copy and quitting...', 'info');
    this.draw();
    try {
      await this.account.closeVault();
    } catch (error) {
      this.o.logger.error({ err: error }, 'saving the local copy on quit failed');
    }
    try {
      await this.o.clipboard.clear();
    } catch (error) {
      this.o.logger.warn({ err: error }, 'emptying the clipboard on quit failed');
    }
    this.account.close();
    this.destroyed = true;
    this.o.widgets.destroy();
    this.finished();
  }

  // ---- keys ---------------------------------------------------------------------------------

  private onKey(key: Key): void {
    if (this.quitting) return;
    try {
      this.handleKey(key);
    } catch (error) {
      this.fail(error);
    }
    this.draw();
  }

  private handleKey(key: Key): void {
    this.autoLock.reset();
    if (key.full === 'C-c') {
      void this.quit();
      return;
    }
    if (tooSmall(this.o.widgets.width, this.o.widgets.height)) {
      if (key.full === 'q') void this.quit();
      return;
    }
    switch (this.screen.mode.kind) {
      case 'starting':
        if (key.full === 'escape') void this.quit();
        break;
      case 'login':
        this.onLoginKey(key);
        break;
      case 'secret':
        this.onSecretKey(key);
        break;
      case 'paused':
        if (key.full === 'enter') this.access.unlocked();
        else if (key.full === 'escape' || key.full === 'q') void this.quit();
        break;
      case 'main': {
        const overlay = this.screen.overlays[this.screen.overlays.length - 1];
        if (overlay) overlayKey(overlay, key, this.keys);
        else mainKey(key, this.keys);
        break;
      }
    }
  }

  private onLoginKey(key: Key): void {
    const mode = this.screen.mode;
    if (mode.kind !== 'login' || mode.busy) return;
    const { state, action } = loginKey(mode.form, key);
    mode.form = state;
    if (action === 'quit') void this.quit();
    else if (action === 'submit') this.act(() => this.access.submitLogin());
  }

  private onSecretKey(key: Key): void {
    const mode = this.screen.mode;
    if (mode.kind !== 'secret') return;
    const { state, action } = secretKey(mode.prompt, key);
    mode.prompt = state;
    if (action === 'submit') this.access.submitSecret();
    else if (action === 'quit') {
      if (mode.cancel) mode.cancel();
      else void this.quit();
    }
  }

  // ---- actions ------------------------------------------------------------------------------

  /** Runs an action; whatever goes wrong becomes a message, never a crash. */
  private act(work: () => Promise<void>): void {
    work()
      .catch((error: unknown) => this.fail(error))
      .finally(() => this.draw());
  }

  private fail(error: unknown): void {
    if (error instanceof Cancelled) {
      void this.quit();
      return;
    }
    if (needsLogin(error)) {
      this.access.toLogin(loginAgain(error));
      return;
    }
    this.o.logger.warn({ err: error }, 'action failed');
    if (this.screen.mode.kind === 'starting') {
      // Nothing is open to fall back to: the connect screen lets the user try again or quit.
      this.access.toLogin(`the vault could not be opened: ${describe(error, this.account.server)}`);
      return;
    }
    this.notices.say(describe(error, this.account.server), 'error');
  }

  // ---- drawing ------------------------------------------------------------------------------

  /** Brings the selection in line with the list (a record gone or filtered out), then draws. */
  private draw(): void {
    if (this.destroyed) return;
    try {
      const screen = this.screen;
      if (screen.mode.kind === 'main' && this.account.engine) this.view.reconcileSelection();
      this.painter.paint({
        mode: screen.mode,
        overlays: screen.overlays,
        main: screen.main,
        messages: this.notices.messages,
        current: this.notices.current,
        account: this.account,
        list: () => this.view.listModel(),
        selected: () => this.view.selected(),
        images: () => this.view.shownImages(),
        image: (id) => this.view.imageRow(id),
      });
    } catch (error) {
      // A drawing bug must not take the terminal down with it; the log has the details.
      this.o.logger.error({ err: error }, 'drawing the screen failed');
    }
  }
}
