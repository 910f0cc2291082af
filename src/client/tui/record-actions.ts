import type { OpenedRecord } from '../sync/record-crypto.js';
import { fieldKindOf, type Field } from '../../domain/record.js';
import { oneTimeCode } from '../core/totp.js';
import { describeStrength, passwordStrengths, type Strength } from '../core/strength.js';
import type { Clipboard } from './clipboard.js';
import { line } from './kit/line-editor.js';
import type { Notices } from './notices.js';
import { historyState } from './screens/history.js';
import { editRecordForm, formOutcome, newRecordForm } from './screens/record-form.js';
import type { TuiAccount } from './account.js';
import type { Level, Overlay, Screen } from './state.js';
import type { SyncLoop } from './sync-loop.js';
import type { VaultView } from './vault-view.js';

/** The strength of the passwords just saved; none when the estimate fails (it is advice, never a failed save). */
function strengthsOf(fields: Field[], name: string): Promise<Strength[]> {
  return passwordStrengths(fields, name ? [name] : []).catch(() => []);
}

export interface RecordActionsOptions {
  account: TuiAccount;
  screen: Screen;
  view: VaultView;
  notices: Notices;
  sync: SyncLoop;
  clipboard: Clipboard;
  draw: () => void;
}

/** What the user does to records: add, edit, delete, read the history and restore, copy a field. */
export class RecordActions {
  constructor(private readonly o: RecordActionsOptions) {}

  private say(text: string, level: Level): void {
    this.o.notices.say(text, level);
  }

  newRecord(): void {
    this.o.screen.overlays.push({ kind: 'form', form: newRecordForm(), top: 0, busy: false });
  }

  editSelected(): void {
    const record = this.o.view.selected();
    if (!record) return this.say('there is no record to edit: choose one first', 'info');
    if (record.unreadable.length > 0) return this.say(`"${record.name}" holds values that cannot be opened (${record.unreadable.join(', ')}), so it cannot be edited here`, 'error');
    this.o.screen.overlays.push({ kind: 'form', form: editRecordForm(record), top: 0, busy: false });
  }

  /** Stars the open record, or unstars it. */
  async toggleFavourite(): Promise<void> {
    const record = this.o.view.selected();
    if (!record) return this.say('there is no record to star: choose one first', 'info');
    const favourite = !record.favourite;
    await this.o.account.exclusive((engine) => engine.update(record.id, { favourite }));
    this.say(`${favourite ? 'starred' : 'unstarred'} "${record.name}"`, 'info');
    this.o.view.changed();
    this.o.sync.syncSoon();
  }

  async saveForm(overlay: Extract<Overlay, { kind: 'form' }>): Promise<void> {
    const { account, screen } = this.o;
    const outcome = formOutcome(overlay.form);
    if (!outcome.ok) {
      overlay.form = { ...overlay.form, row: outcome.row };
      this.say(outcome.error, 'error');
      return;
    }
    if (outcome.kind === 'update' && outcome.unchanged) {
      screen.overlays = screen.overlays.filter((o) => o !== overlay);
      this.say('nothing changed', 'info');
      return;
    }
    overlay.busy = true;
    let said: string;
    try {
      if (outcome.kind === 'create') {
        const id = await account.exclusive((engine) => engine.create(outcome.record));
        screen.main.selectedId = id;
        screen.main.filter = line();
        said = `added "${outcome.record.name}"`;
      } else {
        await account.exclusive((engine) => engine.update(outcome.recordId, outcome.changes));
        screen.main.selectedId = outcome.recordId;
        said = `saved "${outcome.changes.name ?? overlay.form.original?.name ?? ''}"`;
      }
    } finally {
      overlay.busy = false;
    }
    screen.overlays = screen.overlays.filter((o) => o !== overlay);
    this.o.view.changed();
    this.o.sync.syncSoon();
    const fields = outcome.kind === 'create' ? outcome.record.fields : outcome.changes.setFields;
    const strengths = await strengthsOf(fields, outcome.kind === 'create' ? outcome.record.name : (overlay.form.original?.name ?? ''));
    // One message: the save and, when a password was written, how strong it is (advice only).
    const weak = strengths.some((s) => s.score < 3);
    this.say([said, ...strengths.map((s) => `strength of ${describeStrength(s)}`)].join('; '), weak ? 'warn' : 'info');
  }

  confirmDelete(): void {
    const { account, screen } = this.o;
    const record = this.o.view.selected();
    if (!record) return this.say('there is no record to delete: choose one first', 'info');
    screen.overlays.push({
      kind: 'confirm',
      title: 'Delete',
      text: `Delete "${record.name}"? The history keeps it: u lists deleted records to restore.`,
      yes: async () => {
        await account.exclusive((engine) => engine.delete(record.id));
        screen.main.focus = 'list';
        this.o.view.changed();
        this.say(`deleted "${record.name}"`, 'info');
        this.o.sync.syncSoon();
      },
    });
  }

  async openHistory(recordId: string | undefined): Promise<void> {
    const { account, screen } = this.o;
    if (!recordId) return this.say('there is no record to show the history of: choose one first', 'info');
    this.say('reading the history from the server...', 'info');
    this.o.draw();
    const versions = await account.exclusive((engine) => engine.history(recordId));
    if (versions.length === 0) return this.say('the server has no history for this record yet (it is not synced)', 'info');
    const last = account.engine!.open(versions[versions.length - 1]!.state);
    this.o.notices.clear();
    screen.overlays.push({ kind: 'history', title: `History of "${last.unreadable.includes('name') ? recordId.slice(0, 8) : last.name}"`, state: historyState(recordId, versions) });
  }

  confirmRestore(overlay: Extract<Overlay, { kind: 'history' }>): void {
    const { account, screen } = this.o;
    const version = overlay.state.versions[overlay.state.selected];
    if (!version) return;
    if (version.state.deletedAt !== null) return this.say(`version ${version.version} is the deletion itself: choose an earlier version to restore`, 'info');
    const name = account.engine!.open(version.state).name;
    screen.overlays.push({
      kind: 'confirm',
      title: 'Restore',
      text: `Restore "${name}" as it was at version ${version.version}? This adds a new version; nothing is lost.`,
      yes: async () => {
        await account.exclusive((engine) => engine.restore(overlay.state.recordId, version.version));
        screen.overlays = [];
        screen.main.selectedId = overlay.state.recordId;
        screen.main.filter = line();
        this.o.view.changed();
        this.say(`restored "${name}" as it was at version ${version.version}`, 'info');
        this.o.sync.syncSoon();
      },
    });
  }

  async openDeleted(): Promise<void> {
    this.say('reading the deleted records from the server...', 'info');
    this.o.draw();
    const records = await this.o.account.exclusive(async (engine) => (await engine.deletedRecords()).map((r) => engine.open(r)));
    this.o.notices.clear();
    this.o.screen.overlays.push({ kind: 'deleted', state: { records, selected: 0, top: 0 } });
  }

  async copyField(record: OpenedRecord, index: number): Promise<void> {
    const field = record.fields[index];
    if (!field) return;
    if (record.unreadable.includes(field.name)) return this.say(`"${field.name}" is sealed and cannot be read, so it was not copied`, 'error');
    if (!this.o.clipboard.available) return this.say('no clipboard tool found (wl-copy, xclip, xsel, pbcopy): nothing copied', 'warn');
    const through = this.o.clipboard.way === 'terminal' ? ' through the terminal (OSC 52)' : '';
    if (fieldKindOf(field) === 'totp') {
      // What is wanted from a one-time-code field is its code, not its secret.
      const code = oneTimeCode(field.value);
      await this.o.clipboard.copy(code.code);
      return this.say(`copied the current code of "${field.name}" (${code.secondsLeft} s left)${through}; the clipboard is cleared in 30 seconds`, 'info');
    }
    await this.o.clipboard.copy(field.value);
    this.say(`copied "${field.name}" to the clipboard${through}; it is cleared in 30 seconds`, 'info');
  }
}
