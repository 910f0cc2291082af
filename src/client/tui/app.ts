import { access } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { describeFailure } from '../../cli/errors.js';
import type { ImageRendition, ImageState, ImageStatus } from '../../domain/images.js';
import { WrongSecretWord } from '../crypto/index.js';
import { displayFileName, downloadImage, savedFileName, uploadImage } from '../images/image-transfer.js';
import { NotLoggedIn } from '../keeper-client.js';
import { describeConflict } from '../sync/conflict-notices.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import type { SyncEngine, SyncReport } from '../sync/sync-engine.js';
import type { Clipboard } from './clipboard.js';
import type { Key } from './keys.js';
import { mainLayout, tooSmall } from './layout.js';
import { editLine, line } from './line-editor.js';
import { FileOpener, findOpener } from './opener.js';
import { Painter } from './painter.js';
import { deletedKey, historyKey, historyState, moveInList } from './screens/history.js';
import { loginForm, loginKey, loginOutcome, secretKey, secretPrompt } from './screens/login.js';
import { attachForm, attachKey, attachOutcome, IMAGE_ACTIONS, imageMenuKey, openablePath, unavailable, type ImageAction } from './screens/images.js';
import { editRecordForm, formKey, formOutcome, newRecordForm } from './screens/record-form.js';
import { isUnreachable, type TuiSession } from './session.js';
import { mainState, type CachedList, type Level, type MainState, type Message, type Mode, type Overlay } from './state.js';
import { formatBytes, imageRow, listModel, RENDITION_NAMES, type ImageRow, type ListModel } from './view-model.js';
import type { Widgets } from './widgets.js';

export interface AppOptions {
  session: TuiSession;
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

/** The user left a prompt with Esc: the app quits. */
class Cancelled extends Error {
  constructor() {
    super('cancelled by the user');
    this.name = 'Cancelled';
  }
}

const SYNC_EVERY_MS = 15_000;
const SYNC_AFTER_EDIT_MS = 300;
/** While an image attached here is being processed, syncs come this often (for so long) to show it ready. */
const SYNC_WHILE_PROCESSING_MS = 2_000;
const WATCH_PROCESSING_MS = 120_000;
/** Progress on the message line is redrawn at most this often. */
const PROGRESS_DRAW_MS = 100;
const MESSAGE_LOG = 100;
const WRONG_SECRET = 'the secret word is wrong; try again';
/** A scroll position past any text: drawing clamps it to the last page. */
const SCROLL_END = 1_000_000;

/**
 * The terminal UI: which screen is up and what each key does there. Data and rules come from
 * the client core (sync engine, search, crypto) through the session; the painter draws the
 * state with the pure view functions.
 */
export class App {
  private mode: Mode = { kind: 'starting', text: 'Starting...' };
  private overlays: Overlay[] = [];
  private readonly main: MainState = mainState();
  private list: CachedList | undefined;
  /** Bumped whenever the engine's data may have changed, so the list is searched again. */
  private dataVersion = 0;
  private readonly messages: Message[] = [];
  private current: Message | undefined;
  private unlockError: string | undefined;
  private syncRunning = false;
  private syncAgain = false;
  private quitting = false;
  private destroyed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private messageTimer: NodeJS.Timeout | undefined;
  private imageTimer: NodeJS.Timeout | undefined;
  /** Images attached from here and still processing, until when to sync sooner for them. */
  private readonly watching = new Map<string, number>();
  /** Images attached or removed from here, so a sync does not report them as news from elsewhere. */
  private readonly ownImages = new Set<string>();
  /** Downloads running now ("imageId/rendition"), so the same one is not started twice. */
  private readonly transfers = new Set<string>();
  private lastProgressDraw = 0;
  private finished!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.finished = resolve));
  private readonly now: () => number;
  private readonly painter: Painter;
  private readonly opener: FileOpener;

  constructor(private readonly o: AppOptions) {
    this.now = o.now ?? Date.now;
    this.painter = new Painter(o.widgets, this.now);
    this.opener = o.opener ?? new FileOpener(findOpener(process.env));
  }

  private get session(): TuiSession {
    return this.o.session;
  }

  private get engine(): SyncEngine | undefined {
    return this.o.session.engine;
  }

  /** Runs until the user quits. */
  run(): Promise<void> {
    this.o.widgets.onKey((key) => this.onKey(key));
    this.o.widgets.onResize(() => this.draw());
    this.draw();
    this.act(() => this.start());
    return this.done;
  }

  /** Saves the local copy, empties the clipboard if a value may be on it, and ends. */
  async quit(): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    this.stopTimers();
    this.say('saving the local copy and quitting...', 'info');
    this.draw();
    try {
      await this.session.closeVault();
    } catch (error) {
      this.o.logger.error({ err: error }, 'saving the local copy on quit failed');
    }
    try {
      await this.o.clipboard.clear();
    } catch (error) {
      this.o.logger.warn({ err: error }, 'emptying the clipboard on quit failed');
    }
    this.session.close();
    this.destroyed = true;
    this.o.widgets.destroy();
    this.finished();
  }

  // ---- start, log in, open, lock ------------------------------------------------------------

  private async start(): Promise<void> {
    const user = await this.session.savedUser();
    if (!user) return this.toLogin();
    await this.openVault();
  }

  private toLogin(problem?: string): void {
    this.stopTimers();
    this.overlays = [];
    this.mode = { kind: 'login', form: loginForm(this.session.server, this.session.user?.login ?? ''), busy: false };
    if (problem) this.say(problem, 'error');
  }

  private async submitLogin(): Promise<void> {
    if (this.mode.kind !== 'login' || this.mode.busy) return;
    const mode = this.mode;
    const outcome = loginOutcome(mode.form);
    if (!outcome.ok) {
      mode.form = { ...mode.form, row: outcome.row };
      this.say(outcome.error, 'error');
      return;
    }
    mode.busy = true;
    this.say(outcome.register ? 'registering...' : 'logging in...', 'info');
    this.draw();
    try {
      this.session.useServer(outcome.server);
      await this.session.logIn(outcome.login, outcome.password, outcome.register);
    } catch (error) {
      mode.busy = false;
      mode.form = { ...mode.form, password: line(), repeat: line(), row: 2 };
      this.say(this.describe(error), 'error');
      return;
    }
    this.say(outcome.register ? `registered and logged in as ${outcome.login}` : `logged in as ${outcome.login}`, 'info');
    await this.openVault();
  }

  /** Opens the replica, asking for the secret word until it is right (or the user quits). */
  private async openVault(): Promise<void> {
    this.mode = { kind: 'starting', text: 'Opening the vault...' };
    this.draw();
    let engine: SyncEngine;
    for (;;) {
      try {
        engine = await this.session.openVault(this.askSecret);
        break;
      } catch (error) {
        if (!(error instanceof WrongSecretWord)) throw error;
        this.unlockError = WRONG_SECRET;
      }
    }
    this.unlockError = undefined;
    for (const notice of engine.notices) this.say(notice, 'warn');
    this.mode = { kind: 'main' };
    this.main.selectedId = undefined;
    this.main.selectedIndex = 0;
    this.main.focus = 'list';
    this.dataVersion++;
    this.startTimers();
    this.draw();
    await this.syncNow('start');
  }

  /** The engine's way to get the secret word: the prompt takes over the screen until answered. */
  private readonly askSecret = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const reason =
        this.mode.kind === 'main' ? 'Encryption is on for this vault: type its secret word.' : 'This vault is encrypted: type the secret word to open it.';
      this.mode = { kind: 'secret', purpose: 'open', prompt: secretPrompt(reason, this.unlockError), answer: resolve, cancel: () => reject(new Cancelled()) };
      this.unlockError = undefined;
      this.draw();
    });

  private submitSecret(): void {
    if (this.mode.kind !== 'secret') return;
    const mode = this.mode;
    const secret = mode.prompt.secret.text;
    mode.prompt = { ...mode.prompt, secret: line(), busy: true, error: undefined };
    if (mode.purpose === 'open') {
      mode.answer?.(secret);
      return;
    }
    this.act(async () => {
      try {
        await this.session.exclusive((engine) => engine.unlock(secret));
      } catch (error) {
        mode.prompt = { ...mode.prompt, busy: false, error: error instanceof WrongSecretWord ? WRONG_SECRET : this.describe(error) };
        return;
      }
      this.unlocked();
    });
  }

  private unlocked(): void {
    this.mode = { kind: 'main' };
    this.dataVersion++;
    this.startTimers();
    void this.syncNow('auto');
  }

  /**
   * Takes every decrypted value off the screen. An encrypted vault also forgets its key (the
   * secret word opens it again); a vault without encryption has nothing to ask for, so Enter
   * brings it back.
   */
  private async lock(why: 'idle' | 'manual'): Promise<void> {
    const engine = this.engine;
    if (!engine || this.mode.kind !== 'main') return;
    const hadForm = this.overlays.some((o) => o.kind === 'form');
    this.overlays = [];
    this.main.revealedId = undefined;
    this.list = undefined;
    this.current = undefined;
    this.stopTimers();
    const reason = why === 'idle' ? `Locked after ${duration(this.o.autoLockMs)} without a key press.` : 'Locked.';
    if (engine.encrypted && engine.unlocked) {
      this.mode = { kind: 'secret', purpose: 'unlock', prompt: secretPrompt(`${reason} Type the secret word to unlock.`) };
      this.draw();
      await this.session.exclusive(async (e) => {
        await e.save();
        e.lock();
      });
    } else {
      this.mode = { kind: 'paused', reason };
    }
    if (hadForm) this.say('the form was closed without saving when the screen locked', 'warn');
    await this.o.clipboard.clear();
  }

  // ---- sync ---------------------------------------------------------------------------------

  private startTimers(): void {
    this.stopTimers();
    this.syncTimer = setInterval(() => void this.syncNow('auto'), this.o.syncEveryMs ?? SYNC_EVERY_MS);
    this.resetIdle();
  }

  private stopTimers(): void {
    clearInterval(this.syncTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.soonTimer);
    clearTimeout(this.imageTimer);
    this.syncTimer = this.idleTimer = this.soonTimer = this.imageTimer = undefined;
  }

  private resetIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.o.autoLockMs > 0 && this.mode.kind === 'main' && !this.quitting) {
      this.idleTimer = setTimeout(() => this.act(() => this.lock('idle')), this.o.autoLockMs);
    }
  }

  private syncSoon(): void {
    clearTimeout(this.soonTimer);
    this.soonTimer = setTimeout(() => void this.syncNow('edit'), SYNC_AFTER_EDIT_MS);
  }

  private locked(): boolean {
    return (this.mode.kind === 'secret' && this.mode.purpose === 'unlock') || this.mode.kind === 'paused';
  }

  private async syncNow(why: 'start' | 'auto' | 'user' | 'edit'): Promise<void> {
    if (!this.engine || this.locked() || this.quitting) return;
    if (this.syncRunning) {
      this.syncAgain = true;
      return;
    }
    this.syncRunning = true;
    const wasOffline = this.session.connection === 'offline';
    const before = this.beforeSync();
    this.draw();
    try {
      const report = await this.session.sync();
      this.afterSync(report, why, wasOffline, before);
    } catch (error) {
      if (error instanceof WrongSecretWord) {
        this.unlockError = WRONG_SECRET;
        this.syncAgain = true;
      } else if (error instanceof Cancelled) {
        void this.quit();
      } else if (error instanceof NotLoggedIn) {
        this.toLogin(loginAgain(error));
      } else if (isUnreachable(error)) {
        if (!wasOffline || why === 'user') this.say(`offline: cannot reach ${this.session.server}; changes stay here and are pushed when it is back`, 'warn');
      } else {
        this.say(`sync failed: ${this.describe(error)}`, 'error');
        this.o.logger.warn({ err: error }, 'sync failed');
      }
    } finally {
      this.syncRunning = false;
      // The engine asked for the secret word during this sync; it has its answer now.
      if (this.mode.kind === 'secret' && this.mode.purpose === 'open') this.mode = { kind: 'main' };
      this.dataVersion++;
      this.draw();
    }
    if (this.syncAgain && !this.quitting) {
      this.syncAgain = false;
      await this.syncNow('auto');
    }
    this.watchProcessing();
  }

  /** What a sync's news is measured against: the versions of the records on screen and every image's status. */
  private beforeSync(): BeforeSync {
    const engine = this.engine!;
    const ids = [this.main.selectedId, ...this.overlays.map((o) => (o.kind === 'form' ? o.form.recordId : undefined))];
    const versions = new Map<string, number | undefined>();
    for (const id of ids) if (id) versions.set(id, engine.record(id)?.version);
    return { versions, images: new Map(engine.allImages().map((image) => [image.id, image.status])) };
  }

  /** Syncs again soon while an image attached from here is still being processed, so "ready" shows without waiting. */
  private watchProcessing(): void {
    const engine = this.engine;
    clearTimeout(this.imageTimer);
    this.imageTimer = undefined;
    if (!engine || this.quitting || this.locked()) return;
    for (const [id, until] of this.watching) {
      if (engine.image(id)?.status !== 'processing' || this.now() > until) this.watching.delete(id);
    }
    if (this.watching.size > 0) this.imageTimer = setTimeout(() => void this.syncNow('auto'), SYNC_WHILE_PROCESSING_MS);
  }

  private afterSync(report: SyncReport, why: string, wasOffline: boolean, before: BeforeSync): void {
    const engine = this.engine!;
    // The plain news first, so that anything more important said below stays on the message line.
    if (why === 'user') this.say(`synced: version ${report.version}${report.pushed ? `, ${report.pushed} change(s) pushed` : ''}${report.pulled ? `, ${report.pulled} pulled` : ''}`, 'info');
    if (wasOffline) this.say(`back online: synced with ${this.session.server}`, 'info');
    for (const conflict of report.conflicts) this.say(describeConflict(conflict, this.nameOf(conflict.recordId, conflict.recordName)), 'warn');
    if (report.conflicts.length > 1) this.say(`${report.conflicts.length} conflicts in this sync: press m to read them all`, 'warn');
    // Image events name their record too: the record itself changed only if its version moved.
    const changed = new Set(report.changed.filter((id) => !before.versions.has(id) || engine.record(id)?.version !== before.versions.get(id)));
    const shown = this.main.selectedId;
    const shownRecord = shown ? engine.record(shown) : undefined;
    if (shown && changed.has(shown) && report.conflicts.length === 0) {
      if (shownRecord) this.say(`"${this.nameOf(shown, '')}" was changed elsewhere: showing the new version`, 'info');
      else this.say(`"${this.main.shownName ?? shown.slice(0, 8)}" was deleted elsewhere`, 'warn');
    }
    this.reportImages(before.images, report, why);
    for (const overlay of this.overlays) {
      if (overlay.kind === 'form' && overlay.form.recordId && changed.has(overlay.form.recordId)) {
        this.say('this record was changed elsewhere while you edit it: saving changes only the parts you changed', 'warn');
      }
    }
  }

  /**
   * Says which images finished processing (or failed), and which arrived from elsewhere on the open
   * record; several at once are counted rather than named one by one.
   */
  private reportImages(before: Map<string, ImageStatus>, report: SyncReport, why: string): void {
    const engine = this.engine!;
    const ready: string[] = [];
    const failed: string[] = [];
    const arrived: string[] = [];
    for (const image of engine.allImages()) {
      const was = before.get(image.id);
      const name = displayFileName(image, engine.unlockedKey);
      if (was === 'processing' && image.status === 'ready') ready.push(`"${name}"`);
      else if (was === 'processing' && image.status === 'failed') failed.push(`"${name}" could not be processed: ${image.failure ?? 'no reason given'}`);
      // A first sync or a snapshot brings everything at once: that is not news from elsewhere.
      else if (was === undefined && report.transfer === 'events' && why !== 'start' && image.recordId === this.main.selectedId && !this.ownImages.has(image.id)) arrived.push(`"${name}"`);
    }
    if (ready.length === 1) this.say(`${ready[0]} is ready: its cover and compact copy were made`, 'info');
    else if (ready.length > 1) this.say(`${ready.length} images are ready: their covers and compact copies were made`, 'info');
    if (arrived.length > 0) this.say(`"${this.nameOf(this.main.selectedId!, '')}" got ${arrived.length === 1 ? `an image from elsewhere: ${arrived[0]}` : `${arrived.length} images from elsewhere`}`, 'info');
    for (const failure of failed.slice(0, 10)) this.say(failure, 'warn');
    if (failed.length > 10) this.say(`and ${failed.length - 10} more images could not be processed (keeper image ls says why)`, 'warn');
  }

  private nameOf(recordId: string, fallback: string): string {
    const record = this.engine?.record(recordId);
    if (!record) return fallback;
    const opened = this.engine!.open(record);
    return opened.unreadable.includes('name') ? recordId.slice(0, 8) : opened.name;
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
    this.resetIdle();
    if (key.full === 'C-c') {
      void this.quit();
      return;
    }
    if (tooSmall(this.o.widgets.width, this.o.widgets.height)) {
      if (key.full === 'q') void this.quit();
      return;
    }
    switch (this.mode.kind) {
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
        if (key.full === 'enter') this.unlocked();
        else if (key.full === 'escape' || key.full === 'q') void this.quit();
        break;
      case 'main': {
        const overlay = this.overlays[this.overlays.length - 1];
        if (overlay) this.onOverlayKey(overlay, key);
        else this.onMainKey(key);
        break;
      }
    }
  }

  private onLoginKey(key: Key): void {
    if (this.mode.kind !== 'login' || this.mode.busy) return;
    const { state, action } = loginKey(this.mode.form, key);
    this.mode.form = state;
    if (action === 'quit') void this.quit();
    else if (action === 'submit') this.act(() => this.submitLogin());
  }

  private onSecretKey(key: Key): void {
    if (this.mode.kind !== 'secret') return;
    const { state, action } = secretKey(this.mode.prompt, key);
    this.mode.prompt = state;
    if (action === 'submit') this.submitSecret();
    else if (action === 'quit') {
      if (this.mode.cancel) this.mode.cancel();
      else void this.quit();
    }
  }

  private onMainKey(key: Key): void {
    const main = this.main;
    if (main.focus === 'filter') {
      if (['enter', 'tab', 'down', 'escape'].includes(key.full)) {
        main.focus = 'list';
        return;
      }
      const edited = editLine(main.filter, key, 1000);
      if (edited && edited.text !== main.filter.text) {
        main.selectedId = undefined;
        main.selectedIndex = 0;
      }
      if (edited) main.filter = edited;
      return;
    }
    const model = this.listModel();
    if (main.focus === 'images') {
      if (this.onImagesKey(key)) return;
    } else if (main.focus === 'list') {
      const moved = moveInList(main.selectedIndex, model.rows.length, key, this.listHeight());
      if (moved !== undefined) {
        main.selectedIndex = moved;
        main.selectedId = model.rows[moved]?.id;
        return;
      }
      switch (key.full) {
        case '/':
          main.focus = 'filter';
          return;
        case 'escape':
          if (main.filter.text) {
            main.filter = line();
            main.selectedIndex = 0;
          }
          return;
        case 'enter':
        case 'tab':
        case 'right':
          if (this.selected()?.fields.length) {
            main.focus = 'fields';
            main.fieldIndex = 0;
          }
          return;
        case 'c':
          if (this.selected()?.fields.length) {
            main.focus = 'fields';
            this.say('choose a field with Up/Down and press c (or Enter) to copy it', 'info');
          }
          return;
      }
    } else {
      const record = this.selected();
      const count = record?.fields.length ?? 0;
      const moved = moveInList(main.fieldIndex, count, key, 5);
      if (moved !== undefined) {
        main.fieldIndex = moved;
        return;
      }
      switch (key.full) {
        case 'escape':
        case 'tab':
        case 'left':
          main.focus = 'list';
          return;
        case 'c':
        case 'enter':
          if (record) this.act(() => this.copyField(record, main.fieldIndex));
          return;
      }
    }
    switch (key.full) {
      case 'n':
        this.overlays.push({ kind: 'form', form: newRecordForm(), top: 0, busy: false });
        return;
      case 'e':
        this.editSelected();
        return;
      case 'd':
        this.confirmDelete();
        return;
      case 'h':
        this.act(() => this.openHistory(this.main.selectedId));
        return;
      case 'a':
        this.startAttach();
        return;
      case 'i':
        this.focusImages();
        return;
      case 'u':
        this.act(() => this.openDeleted());
        return;
      case 'r': {
        const id = main.selectedId;
        main.revealedId = id && main.revealedId !== id ? id : undefined;
        return;
      }
      case 's':
        void this.syncNow('user');
        return;
      case 'm':
        this.overlays.push({ kind: 'messages', top: SCROLL_END });
        return;
      case 'L':
        this.act(() => this.lock('manual'));
        return;
      case '?':
        this.overlays.push({ kind: 'help', top: 0 });
        return;
      case 'q':
        void this.quit();
        return;
    }
  }

  private onOverlayKey(overlay: Overlay, key: Key): void {
    const close = () => this.overlays.pop();
    switch (overlay.kind) {
      case 'help':
      case 'messages': {
        // The top line moves; drawing clamps it to the text.
        const moved = key.full === 'j' || key.full === 'k' ? undefined : moveInList(overlay.top, SCROLL_END + 1, key, 10);
        if (moved !== undefined) overlay.top = moved;
        else close();
        return;
      }
      case 'confirm':
        if (key.full === 'y' || key.full === 'Y' || key.full === 'enter') {
          close();
          this.act(overlay.yes);
        } else if (key.full === 'n' || key.full === 'N' || key.full === 'escape' || key.full === 'q') close();
        return;
      case 'form': {
        if (overlay.busy) return;
        const { state, action } = formKey(overlay.form, key);
        overlay.form = state;
        if (action === 'cancel') {
          close();
          this.say(state.mode === 'create' ? 'nothing was added' : 'the edit was cancelled; nothing changed', 'info');
        } else if (action === 'save') this.act(() => this.saveForm(overlay));
        return;
      }
      case 'history': {
        const { state, action } = historyKey(overlay.state, key);
        overlay.state = state;
        if (action === 'close') close();
        else if (action === 'choose') this.confirmRestore(overlay);
        return;
      }
      case 'attach': {
        if (overlay.busy) {
          // The upload goes on without the prompt; its result comes on the message line.
          if (key.full === 'escape') close();
          return;
        }
        const { state, action } = attachKey(overlay.state, key);
        overlay.state = state;
        if (action === 'cancel') {
          close();
          this.say('nothing was attached', 'info');
        } else if (action === 'submit') this.act(() => this.attach(overlay));
        return;
      }
      case 'image': {
        const { state, action } = imageMenuKey(overlay.state, key);
        overlay.state = state;
        if (action === 'close') close();
        else if (action) {
          if (action !== 'remove') close();
          this.imageAction(state.imageId, action);
        }
        return;
      }
      case 'deleted': {
        const { state, action } = deletedKey(overlay.state, key);
        overlay.state = state;
        if (action === 'close') close();
        else if (action === 'choose') this.act(() => this.openHistory(state.records[state.selected]?.id));
        return;
      }
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
    if (error instanceof NotLoggedIn) {
      this.toLogin(loginAgain(error));
      return;
    }
    this.o.logger.warn({ err: error }, 'action failed');
    if (this.mode.kind === 'starting') {
      // Nothing is open to fall back to: the connect screen lets the user try again or quit.
      this.toLogin(`the vault could not be opened: ${this.describe(error)}`);
      return;
    }
    this.say(this.describe(error), 'error');
  }

  private describe(error: unknown): string {
    if (error instanceof WrongSecretWord) return 'the secret word is wrong';
    // gRPC's own words for a dead connection run longer than the message line.
    if (isUnreachable(error)) return `cannot reach the Keeper server at ${this.session.server}: is it running?`;
    return describeFailure(error, this.session.server).message;
  }

  private selected(): OpenedRecord | undefined {
    const engine = this.engine;
    const id = this.main.selectedId;
    const record = engine && id ? engine.record(id) : undefined;
    return record ? engine!.open(record) : undefined;
  }

  private editSelected(): void {
    const record = this.selected();
    if (!record) return this.say('there is no record to edit: choose one first', 'info');
    if (record.unreadable.length > 0) return this.say(`"${record.name}" holds values that cannot be opened (${record.unreadable.join(', ')}), so it cannot be edited here`, 'error');
    this.overlays.push({ kind: 'form', form: editRecordForm(record), top: 0, busy: false });
  }

  private async saveForm(overlay: Extract<Overlay, { kind: 'form' }>): Promise<void> {
    const outcome = formOutcome(overlay.form);
    if (!outcome.ok) {
      overlay.form = { ...overlay.form, row: outcome.row };
      this.say(outcome.error, 'error');
      return;
    }
    if (outcome.kind === 'update' && outcome.unchanged) {
      this.overlays = this.overlays.filter((o) => o !== overlay);
      this.say('nothing changed', 'info');
      return;
    }
    overlay.busy = true;
    try {
      if (outcome.kind === 'create') {
        const id = await this.session.exclusive((engine) => engine.create(outcome.record));
        this.main.selectedId = id;
        this.main.filter = line();
        this.say(`added "${outcome.record.name}"`, 'info');
      } else {
        await this.session.exclusive((engine) => engine.update(outcome.recordId, outcome.changes));
        this.main.selectedId = outcome.recordId;
        this.say(`saved "${outcome.changes.name ?? overlay.form.original?.name ?? ''}"`, 'info');
      }
    } finally {
      overlay.busy = false;
    }
    this.overlays = this.overlays.filter((o) => o !== overlay);
    this.dataVersion++;
    this.syncSoon();
  }

  private confirmDelete(): void {
    const record = this.selected();
    if (!record) return this.say('there is no record to delete: choose one first', 'info');
    this.overlays.push({
      kind: 'confirm',
      title: 'Delete',
      text: `Delete "${record.name}"? The history keeps it: u lists deleted records to restore.`,
      yes: async () => {
        await this.session.exclusive((engine) => engine.delete(record.id));
        this.main.focus = 'list';
        this.dataVersion++;
        this.say(`deleted "${record.name}"`, 'info');
        this.syncSoon();
      },
    });
  }

  private async openHistory(recordId: string | undefined): Promise<void> {
    if (!recordId) return this.say('there is no record to show the history of: choose one first', 'info');
    this.say('reading the history from the server...', 'info');
    this.draw();
    const versions = await this.session.exclusive((engine) => engine.history(recordId));
    if (versions.length === 0) return this.say('the server has no history for this record yet (it is not synced)', 'info');
    const last = this.engine!.open(versions[versions.length - 1]!.state);
    this.current = undefined;
    this.overlays.push({ kind: 'history', title: `History of "${last.unreadable.includes('name') ? recordId.slice(0, 8) : last.name}"`, state: historyState(recordId, versions) });
  }

  private confirmRestore(overlay: Extract<Overlay, { kind: 'history' }>): void {
    const version = overlay.state.versions[overlay.state.selected];
    if (!version) return;
    if (version.state.deletedAt !== null) return this.say(`version ${version.version} is the deletion itself: choose an earlier version to restore`, 'info');
    const name = this.engine!.open(version.state).name;
    this.overlays.push({
      kind: 'confirm',
      title: 'Restore',
      text: `Restore "${name}" as it was at version ${version.version}? This adds a new version; nothing is lost.`,
      yes: async () => {
        await this.session.exclusive((engine) => engine.restore(overlay.state.recordId, version.version));
        this.overlays = [];
        this.main.selectedId = overlay.state.recordId;
        this.main.filter = line();
        this.dataVersion++;
        this.say(`restored "${name}" as it was at version ${version.version}`, 'info');
        this.syncSoon();
      },
    });
  }

  private async openDeleted(): Promise<void> {
    this.say('reading the deleted records from the server...', 'info');
    this.draw();
    const records = await this.session.exclusive(async (engine) => (await engine.deletedRecords()).map((r) => engine.open(r)));
    this.current = undefined;
    this.overlays.push({ kind: 'deleted', state: { records, selected: 0, top: 0 } });
  }

  private async copyField(record: OpenedRecord, index: number): Promise<void> {
    const field = record.fields[index];
    if (!field) return;
    if (record.unreadable.includes(field.name)) return this.say(`"${field.name}" is sealed and cannot be read, so it was not copied`, 'error');
    if (!this.o.clipboard.available) return this.say('no clipboard tool found (wl-copy, xclip, xsel, pbcopy): nothing copied', 'warn');
    await this.o.clipboard.copy(field.value);
    this.say(`copied "${field.name}" to the clipboard; it is cleared in 30 seconds`, 'info');
  }

  // ---- images -------------------------------------------------------------------------------

  /** The open record's images as the detail pane shows them. */
  private shownImages(): ImageRow[] {
    const engine = this.engine;
    const id = this.main.selectedId;
    if (!engine || !id || !engine.record(id)) return [];
    return engine.imagesOf(id).map((image) => this.rowOf(image));
  }

  private rowOf(image: ImageState): ImageRow {
    const engine = this.engine!;
    return imageRow(image, displayFileName(image, engine.unlockedKey), engine.imageFilesOf(image.id));
  }

  /** Keys while the focus is on the open record's images; false leaves the key to the common ones. */
  private onImagesKey(key: Key): boolean {
    const main = this.main;
    const images = this.shownImages();
    const moved = moveInList(main.imageIndex, images.length, key, 5);
    if (moved !== undefined) {
      main.imageIndex = moved;
      return true;
    }
    const image = images[main.imageIndex];
    switch (key.full) {
      case 'escape':
      case 'tab':
      case 'left':
        main.focus = 'list';
        return true;
      case 'enter':
        if (image) this.overlays.push({ kind: 'image', state: { imageId: image.id, selected: 0 } });
        return true;
      case 'd':
        if (image) this.imageAction(image.id, 'remove');
        return true;
    }
    const direct = IMAGE_ACTIONS.find((entry) => entry.key === key.full);
    if (direct && image) {
      this.imageAction(image.id, direct.action);
      return true;
    }
    return false;
  }

  private focusImages(): void {
    const record = this.selected();
    if (!record) return this.say('there is no record open: choose one first', 'info');
    if (this.shownImages().length === 0) return this.say(`"${this.nameOf(record.id, record.id.slice(0, 8))}" has no images: a attaches one`, 'info');
    this.main.focus = 'images';
    this.main.imageIndex = Math.min(this.main.imageIndex, this.shownImages().length - 1);
    this.say('choose an image with Up/Down; Enter shows what to do with it', 'info');
  }

  private imageAction(imageId: string, action: ImageAction): void {
    if (action === 'remove') this.confirmRemoveImage(imageId);
    else if (action === 'open') this.act(() => this.openImage(imageId));
    else this.act(() => this.saveImage(imageId, action));
  }

  private startAttach(): void {
    const engine = this.engine;
    const record = this.selected();
    if (!engine || !record) return this.say('there is no record to attach an image to: choose one first', 'info');
    // Never send a picture of an encrypted vault in the clear.
    if (engine.encrypted && !engine.unlockedKey) return this.say('the vault is encrypted and locked: unlock it to attach images', 'error');
    this.overlays.push({ kind: 'attach', state: attachForm(record.id, this.nameOf(record.id, record.id.slice(0, 8))), busy: false });
  }

  /** Uploads the file the prompt names (sealed first in an encrypted vault), then syncs so the image shows. */
  private async attach(overlay: Extract<Overlay, { kind: 'attach' }>): Promise<void> {
    const outcome = attachOutcome(overlay.state);
    if (!outcome.ok) {
      overlay.state = { ...overlay.state, row: outcome.row };
      overlay.error = outcome.error;
      this.say(outcome.error, 'error');
      return;
    }
    const engine = this.engine;
    if (!engine) return;
    if (engine.encrypted && !engine.unlockedKey) {
      overlay.error = 'the vault is encrypted and locked: unlock it to attach images';
      return this.say(overlay.error, 'error');
    }
    const recordId = overlay.state.recordId;
    const recordName = overlay.state.recordName;
    const name = outcome.fileName ?? basename(outcome.path);
    overlay.busy = true;
    overlay.error = undefined;
    overlay.progress = `uploading "${name}"...`;
    this.progress(overlay.progress);
    let response: Awaited<ReturnType<typeof uploadImage>>;
    try {
      response = await uploadImage(this.session.client, {
        recordId,
        path: outcome.path,
        fileName: outcome.fileName,
        vaultKey: engine.encrypted ? engine.unlockedKey : null,
        onProgress: (done, total) => {
          overlay.progress = `uploading "${name}"... ${percent(done, total)} (${formatBytes(done)} of ${formatBytes(total)})`;
          this.progress(overlay.progress);
        },
      });
    } catch (error) {
      overlay.busy = false;
      overlay.progress = undefined;
      if (error instanceof NotLoggedIn || error instanceof Cancelled) throw error;
      overlay.error = `not attached: ${this.describe(error)}`;
      this.o.logger.info({ err: error }, 'attaching an image failed');
      this.say(overlay.error, 'error');
      return;
    }
    this.overlays = this.overlays.filter((o) => o !== overlay);
    const imageId = response.image?.id;
    if (imageId) {
      this.ownImages.add(imageId);
      if (!engine.encrypted) this.watching.set(imageId, this.now() + WATCH_PROCESSING_MS);
    }
    const next = engine.encrypted ? 'sealed here, its cover made here' : 'its cover and compact copy are being made';
    this.say(`${response.duplicate ? 'already attached' : 'attached'} "${name}" to "${recordName}"; ${next}`, 'info');
    await this.syncNow('edit');
    // The new image is the chosen one, for i and the image keys.
    const index = this.main.selectedId === recordId ? this.shownImages().findIndex((row) => row.id === imageId) : -1;
    if (index >= 0) this.main.imageIndex = index;
  }

  /** Downloads a rendition into KEEPER_HOME/images/<id>/ (as `keeper image get` does) and remembers the path. */
  private async saveImage(imageId: string, rendition: ImageRendition): Promise<void> {
    const engine = this.engine;
    const image = engine?.image(imageId);
    if (!engine || !image) return this.say('that image is gone (removed, or its record deleted)', 'warn');
    const row = this.rowOf(image);
    const why = unavailable(row, rendition);
    if (why) return this.say(why, 'info');
    const what = `the ${RENDITION_NAMES[rendition]} of "${row.name}"`;
    const transfer = `${imageId}/${rendition}`;
    if (this.transfers.has(transfer)) return this.say(`${what} is being saved already`, 'info');
    const target = join(this.session.home, 'images', image.id.slice(0, 8), savedFileName(image, rendition, engine.unlockedKey));
    this.transfers.add(transfer);
    this.progress(`saving ${what}...`);
    let path: string;
    try {
      path = await downloadImage(this.session.client, {
        image,
        rendition,
        target,
        vaultKey: engine.unlockedKey,
        onProgress: (done, total) => this.progress(`saving ${what}... ${percent(done, total)} (${formatBytes(done)} of ${formatBytes(total)})`),
      });
      await this.session.exclusive((e) => e.linkImageFile(image.id, rendition, path));
    } catch (error) {
      if (error instanceof NotLoggedIn || error instanceof Cancelled) throw error;
      this.o.logger.info({ err: error }, 'saving an image failed');
      return this.say(`${what} was not saved: ${this.describe(error)}`, 'error');
    } finally {
      this.transfers.delete(transfer);
    }
    this.say(`saved ${what} to ${path}`, 'info');
  }

  /** Shows where the image is saved and hands the file to xdg-open when there is one; never waits for it. */
  private async openImage(imageId: string): Promise<void> {
    const image = this.engine?.image(imageId);
    if (!image) return this.say('that image is gone (removed, or its record deleted)', 'warn');
    const row = this.rowOf(image);
    const saved = openablePath(row);
    if (!saved) return this.say(`nothing of "${row.name}" is saved here yet: o saves the original`, 'info');
    const exists = await access(saved.path).then(
      () => true,
      () => false,
    );
    if (!exists) return this.say(`${saved.path} is gone from this machine: save it again to open it`, 'warn');
    if (!this.opener.command) return this.say(`no ${this.opener.name} here to open it with; the ${RENDITION_NAMES[saved.rendition]} is saved at ${saved.path}`, 'warn');
    await this.opener.open(saved.path);
    this.say(`opened ${saved.path} with ${this.opener.name}`, 'info');
  }

  private confirmRemoveImage(imageId: string): void {
    const engine = this.engine;
    const image = engine?.image(imageId);
    if (!engine || !image) return this.say('that image is gone (removed, or its record deleted)', 'warn');
    const name = displayFileName(image, engine.unlockedKey);
    const recordName = this.nameOf(image.recordId, image.recordId.slice(0, 8));
    this.overlays.push({
      kind: 'confirm',
      title: 'Remove image',
      text: `Remove the image "${name}" from "${recordName}"? Files saved on this machine stay where they are.`,
      yes: async () => {
        this.overlays = this.overlays.filter((o) => !(o.kind === 'image' && o.state.imageId === imageId));
        this.ownImages.add(imageId);
        await this.session.client.deleteImage(imageId);
        this.say(`removed the image "${name}" from "${recordName}"`, 'info');
        await this.syncNow('edit');
      },
    });
  }

  // ---- messages -----------------------------------------------------------------------------

  private say(text: string, level: Level): void {
    const message = { at: this.now(), text, level };
    this.messages.push(message);
    if (this.messages.length > MESSAGE_LOG) this.messages.shift();
    this.current = message;
    clearTimeout(this.messageTimer);
    this.messageTimer = setTimeout(
      () => {
        if (this.current === message) this.current = undefined;
        if (!this.quitting) this.draw();
      },
      level === 'info' ? 8_000 : 60_000,
    );
    this.messageTimer.unref();
  }

  /** How a transfer is going, on the message line but not in the message log; drawn at most every 100 ms. */
  private progress(text: string): void {
    if (this.quitting) return;
    this.current = { at: this.now(), text, level: 'info' };
    const now = Date.now();
    if (now - this.lastProgressDraw >= PROGRESS_DRAW_MS) {
      this.lastProgressDraw = now;
      this.draw();
    }
  }

  // ---- drawing ------------------------------------------------------------------------------

  private listModel(): ListModel {
    const engine = this.engine!;
    const key = `${this.dataVersion}\u0000${this.main.filter.text}`;
    if (this.list?.key !== key) this.list = { key, model: listModel((query, options) => engine.search(query, options), this.main.filter.text) };
    return this.list.model;
  }

  private listHeight(): number {
    return Math.max(1, mainLayout(this.o.widgets.width, this.o.widgets.height).list.height - 2);
  }

  /** Brings the selection in line with the list (a record gone or filtered out), then draws. */
  private draw(): void {
    if (this.destroyed) return;
    try {
      const engine = this.engine;
      if (this.mode.kind === 'main' && engine) this.reconcileSelection();
      this.painter.paint({
        mode: this.mode,
        overlays: this.overlays,
        main: this.main,
        messages: this.messages,
        current: this.current,
        session: this.session,
        list: () => this.listModel(),
        selected: () => this.selected(),
        images: () => this.shownImages(),
        image: (id) => {
          const image = this.engine?.image(id);
          return image ? this.rowOf(image) : undefined;
        },
      });
    } catch (error) {
      // A drawing bug must not take the terminal down with it; the log has the details.
      this.o.logger.error({ err: error }, 'drawing the screen failed');
    }
  }

  private reconcileSelection(): void {
    const main = this.main;
    const model = this.listModel();
    let index = model.rows.findIndex((row) => row.id === main.selectedId);
    if (index < 0) index = Math.min(main.selectedIndex, model.rows.length - 1);
    main.selectedIndex = Math.max(0, index);
    const row = model.rows[index];
    if (row?.id !== main.selectedId) {
      main.fieldIndex = 0;
      main.imageIndex = 0;
      main.detailTop = 0;
      if (main.focus === 'fields' || main.focus === 'images') main.focus = 'list';
    }
    main.selectedId = row?.id;
    const images = this.shownImages().length;
    main.imageIndex = Math.max(0, Math.min(main.imageIndex, images - 1));
    if (main.focus === 'images' && images === 0) main.focus = 'list';
    // A menu of an image removed meanwhile (here or elsewhere) has nothing left to act on.
    this.overlays = this.overlays.filter((o) => o.kind !== 'image' || this.engine!.image(o.state.imageId) !== undefined);
    const record = this.selected();
    if (record) main.shownName = record.unreadable.includes('name') ? undefined : record.name;
  }
}

/**
 * The core's "session ended (why): run `keeper login` again" as said on the connect screen, the
 * part that matters first (the message line may cut the end).
 */
function loginAgain(error: NotLoggedIn): string {
  const ended = /^session ended \((.*)\)/.exec(error.message);
  return ended ? `session ended: log in again (${ended[1]})` : 'not logged in: log in first';
}

interface BeforeSync {
  /** The versions of the open record and of records being edited (undefined: not there). */
  versions: Map<string, number | undefined>;
  images: Map<string, ImageStatus>;
}

function percent(done: number, total: number): string {
  return total > 0 ? `${Math.min(100, Math.floor((done / total) * 100))}%` : '';
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 60 !== 0 || seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = seconds / 60;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
