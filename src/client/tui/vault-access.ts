import { WrongSecretWord } from '../crypto/index.js';
import { checkSecretWord } from '../secret-word-policy.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import type { AutoLock } from './auto-lock.js';
import type { Clipboard } from './clipboard.js';
import { Cancelled, describe, WRONG_SECRET } from './failures.js';
import { line } from './kit/line-editor.js';
import type { Notices } from './notices.js';
import { loginForm, loginOutcome, secretPrompt } from './screens/login.js';
import { refused, secretWordForm, secretWordOutcome } from './screens/secret-word.js';
import type { TuiAccount } from './account.js';
import type { Level, Overlay, Screen } from './state.js';
import type { SyncLoop } from './sync-loop.js';
import type { VaultView } from './vault-view.js';

export interface VaultAccessOptions {
  account: TuiAccount;
  screen: Screen;
  view: VaultView;
  notices: Notices;
  sync: SyncLoop;
  autoLock: AutoLock;
  clipboard: Clipboard;
  draw: () => void;
  /** Runs an action; whatever goes wrong becomes a message. */
  act: (work: () => Promise<void>) => void;
}

/**
 * Getting to the vault and away from it again: the connect screen, opening the replica with the
 * secret word, locking (by hand or after the idle time) and unlocking.
 */
export class VaultAccess {
  private unlockError: string | undefined;

  constructor(private readonly o: VaultAccessOptions) {}

  private say(text: string, level: Level): void {
    this.o.notices.say(text, level);
  }

  async start(): Promise<void> {
    const user = await this.o.account.savedUser();
    if (!user) return this.toLogin();
    await this.openVault();
  }

  toLogin(problem?: string): void {
    const { account, screen } = this.o;
    this.stopTimers();
    screen.overlays = [];
    screen.mode = { kind: 'login', form: loginForm(account.server, account.user?.login ?? ''), busy: false };
    if (problem) this.say(problem, 'error');
  }

  async submitLogin(): Promise<void> {
    const { account, screen } = this.o;
    if (screen.mode.kind !== 'login' || screen.mode.busy) return;
    const mode = screen.mode;
    const outcome = loginOutcome(mode.form);
    if (!outcome.ok) {
      mode.form = { ...mode.form, row: outcome.row };
      this.say(outcome.error, 'error');
      return;
    }
    mode.busy = true;
    this.say(outcome.register ? 'registering...' : 'logging in...', 'info');
    this.o.draw();
    try {
      account.useServer(outcome.server);
      await account.logIn(outcome.login, outcome.password, outcome.register);
    } catch (error) {
      mode.busy = false;
      mode.form = { ...mode.form, password: line(), repeat: line(), row: 2 };
      this.say(describe(error, account.server), 'error');
      return;
    }
    this.say(outcome.register ? `registered and logged in as ${outcome.login}` : `logged in as ${outcome.login}`, 'info');
    await this.openVault();
  }

  /** Opens the replica, asking for the secret word until it is right (or the user quits). */
  private async openVault(): Promise<void> {
    const { screen } = this.o;
    screen.mode = { kind: 'starting', text: 'Opening the vault...' };
    this.o.draw();
    let engine: SyncEngine;
    for (;;) {
      try {
        engine = (await this.o.account.openVault(this.askSecret)).vault;
        break;
      } catch (error) {
        if (!(error instanceof WrongSecretWord)) throw error;
        this.unlockError = WRONG_SECRET;
      }
    }
    this.unlockError = undefined;
    for (const notice of engine.notices) this.say(notice, 'warn');
    screen.mode = { kind: 'main' };
    screen.main.selectedId = undefined;
    screen.main.selectedIndex = 0;
    screen.main.focus = 'list';
    this.o.view.changed();
    this.startTimers();
    this.o.draw();
    await this.o.sync.syncNow('start');
  }

  /** The engine's way to get the secret word: the prompt takes over the screen until answered. */
  private readonly askSecret = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const { screen } = this.o;
      const reason =
        screen.mode.kind === 'main' ? 'Encryption is on for this vault: type its secret word.' : 'This vault is encrypted: type the secret word to open it.';
      screen.mode = { kind: 'secret', purpose: 'open', prompt: secretPrompt(reason, this.unlockError), answer: resolve, cancel: () => reject(new Cancelled()) };
      this.unlockError = undefined;
      this.o.draw();
    });

  /** The engine got a wrong secret word while syncing: the prompt it asks again with says so. */
  wrongSecret(): void {
    this.unlockError = WRONG_SECRET;
  }

  submitSecret(): void {
    const { account, screen } = this.o;
    if (screen.mode.kind !== 'secret') return;
    const mode = screen.mode;
    const secret = mode.prompt.secret.text;
    mode.prompt = { ...mode.prompt, secret: line(), busy: true, error: undefined };
    if (mode.purpose === 'open') {
      mode.answer?.(secret);
      return;
    }
    this.o.act(async () => {
      try {
        await account.exclusive((engine) => engine.unlock(secret));
      } catch (error) {
        mode.prompt = { ...mode.prompt, busy: false, error: error instanceof WrongSecretWord ? WRONG_SECRET : describe(error, account.server) };
        return;
      }
      this.unlocked();
    });
  }

  unlocked(): void {
    this.o.screen.mode = { kind: 'main' };
    this.o.view.changed();
    this.startTimers();
    void this.o.sync.syncNow('auto');
  }

  /**
   * Takes every decrypted value off the screen. An encrypted vault also forgets its key (the
   * secret word opens it again); a vault without encryption has nothing to ask for, so Enter
   * brings it back.
   */
  async lock(why: 'idle' | 'manual'): Promise<void> {
    const { account, screen } = this.o;
    const engine = account.engine;
    if (!engine || screen.mode.kind !== 'main') return;
    const hadForm = screen.overlays.some((o) => o.kind === 'form');
    screen.overlays = [];
    screen.main.revealedId = undefined;
    this.o.view.forget();
    this.o.notices.clear();
    this.stopTimers();
    const reason = why === 'idle' ? `Locked after ${duration(this.o.autoLock.ms)} without a key press.` : 'Locked.';
    if (engine.encrypted) {
      // Whether the key is at hand or not: an encrypted vault opens only with its word.
      screen.mode = { kind: 'secret', purpose: 'unlock', prompt: secretPrompt(`${reason} Type the secret word to unlock.`) };
      this.o.draw();
      await account.exclusive(async (e) => {
        if (!e.unlocked) return;
        await e.save();
        e.lock();
      });
    } else {
      screen.mode = { kind: 'paused', reason };
    }
    if (hadForm) this.say('the form was closed without saving when the screen locked', 'warn');
    await this.o.clipboard.clear();
  }

  /** E: the dialog that turns encryption on, or changes the word of an encrypted vault. */
  openSecretWord(): void {
    const engine = this.o.account.engine;
    if (!engine) return;
    this.o.screen.overlays.push({ kind: 'secret-word', state: secretWordForm(engine.encrypted ? 'change' : 'encrypt'), busy: false });
  }

  /** Sends the dialog: the client's rule for the new word first, then the engine does the change and syncs it. */
  async setSecretWord(overlay: Extract<Overlay, { kind: 'secret-word' }>): Promise<void> {
    const { account, screen } = this.o;
    const outcome = secretWordOutcome(overlay.state);
    if (!outcome.ok) {
      overlay.state = { ...outcome.state, error: outcome.error };
      return;
    }
    overlay.busy = true;
    this.o.draw();
    try {
      const verdict = await checkSecretWord(outcome.next, account.user ? [account.user.login] : []);
      if (!verdict.ok) {
        overlay.state = refused(overlay.state, verdict.reason);
        return;
      }
      try {
        if (outcome.mode === 'encrypt') {
          const { resealed } = await account.exclusive((engine) => engine.enableEncryption(outcome.next));
          this.say(`encryption is on: ${resealed} record(s) re-written sealed; their earlier values stay readable in the server's history, so change any that matter`, 'warn');
        } else {
          await account.exclusive((engine) => engine.changeSecret(outcome.current, outcome.next));
          this.say('secret word changed (the vault key was wrapped again; no record changed)', 'info');
        }
      } catch (error) {
        const wrong = error instanceof WrongSecretWord;
        overlay.state = refused({ ...overlay.state, current: line() }, wrong ? 'the current secret word is wrong; nothing changed' : describe(error, account.server), wrong);
        return;
      }
    } finally {
      overlay.busy = false;
    }
    screen.overlays = screen.overlays.filter((o) => o !== overlay);
    this.o.view.changed();
  }

  private startTimers(): void {
    this.o.sync.start();
    this.o.autoLock.reset();
  }

  private stopTimers(): void {
    this.o.sync.stop();
    this.o.autoLock.stop();
  }
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 60 !== 0 || seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = seconds / 60;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
