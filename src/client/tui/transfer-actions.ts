import { writeFileAtomic } from '../../lib/atomic-file.js';
import { applyImport, importFormat, kindCounts, prepareImport, type ImportPlan } from '../core/import/import-file.js';
import { exportFormat, exportVault, PLAINTEXT_WARNING } from '../core/export/export-vault.js';
import { checkSecretWord } from '../secret-word-policy.js';
import type { TuiAccount } from './account.js';
import { describe } from './failures.js';
import type { Notices } from './notices.js';
import { formatOf, needsPassword, transferForm, transferPath } from './screens/transfer.js';
import type { Overlay, Screen } from './state.js';
import type { SyncLoop } from './sync-loop.js';

type TransferOverlay = Extract<Overlay, { kind: 'transfer' }>;

export interface TransferActionsOptions {
  account: TuiAccount;
  screen: Screen;
  notices: Notices;
  sync: SyncLoop;
}

/** Import (I) and export (X) from the TUI, through the client core the CLI uses. */
export class TransferActions {
  constructor(private readonly o: TransferActionsOptions) {}

  open(direction: 'import' | 'export'): void {
    if (!this.o.account.vault) return this.o.notices.say('not logged in', 'error');
    this.o.screen.overlays.push({ kind: 'transfer', state: transferForm(direction), busy: false });
  }

  /** Enter in the prompt: an export writes the file; an import shows its dry run, then imports on the next Enter. */
  async submit(overlay: TransferOverlay): Promise<void> {
    const { account, notices } = this.o;
    const handle = account.vault;
    if (!handle) return;
    const path = transferPath(overlay.state);
    const fail = (error: string, row: 0 | 1 | 2) => {
      overlay.error = error;
      overlay.state = { ...overlay.state, row };
      notices.say(error, 'error');
    };
    if (!path) return fail(`type the path of the file to ${overlay.state.direction} ${overlay.state.direction === 'import' ? 'from' : 'to'}`, 1);
    const password = overlay.state.password.text;
    if (needsPassword(overlay.state) && password === '' && formatOf(overlay.state) !== 'keeper') return fail('type the file\'s password', 2);
    overlay.busy = true;
    overlay.error = undefined;
    try {
      if (overlay.state.direction === 'export') await this.export(overlay, path, password);
      else await this.import(overlay, path, password);
    } catch (error) {
      overlay.error = describe(error, account.server);
      notices.say(overlay.error, 'error');
    } finally {
      overlay.busy = false;
      overlay.progress = undefined;
    }
  }

  private async export(overlay: TransferOverlay, path: string, password: string): Promise<void> {
    const format = exportFormat(formatOf(overlay.state));
    if (format === 'encrypted') {
      const login = this.o.account.user?.login;
      const verdict = await checkSecretWord(password, login ? [login] : []);
      if (!verdict.ok) throw new Error(`${verdict.reason}; nothing was exported`);
    }
    overlay.progress = 'exporting...';
    const { text, records } = await exportVault(this.o.account.vault!, { format, password: async () => password });
    await writeFileAtomic(path, text, 0o600);
    this.close(overlay);
    if (format === 'encrypted') this.o.notices.say(`exported ${records} record(s) to ${path}, sealed under the password`, 'info');
    else this.o.notices.say(`exported ${records} record(s) to ${path}: ${PLAINTEXT_WARNING}`, 'warn');
  }

  private async import(overlay: TransferOverlay, path: string, password: string): Promise<void> {
    const handle = this.o.account.vault!;
    const format = importFormat(formatOf(overlay.state));
    const online = this.o.account.connection === 'online';
    overlay.progress = 'reading the file...';
    if (!overlay.state.preview) {
      const plan = await prepareImport(handle, { format, path, online, askPassword: async () => password });
      overlay.state = { ...overlay.state, preview: previewLines(plan) };
      return;
    }
    // The file is read again: it may have changed since the preview, and the records too.
    await handle.syncOnline();
    const plan = await prepareImport(handle, { format, path, online: true, askPassword: async () => password });
    const { created } = await applyImport(handle, plan, {
      onProgress: (done, total) => {
        overlay.progress = `importing... ${done} of ${total}`;
        this.o.notices.progress(overlay.progress);
      },
    });
    this.close(overlay);
    const skipped = plan.unmapped.length ? `; ${plan.unmapped.length} thing(s) not imported or not kept (the dry run lists them)` : '';
    this.o.notices.say(`imported ${created} record(s) from ${format}${plan.existing.length ? `, ${plan.existing.length} already here` : ''}${skipped}`, 'info');
    await this.o.sync.syncNow('edit');
  }

  private close(overlay: TransferOverlay): void {
    this.o.screen.overlays = this.o.screen.overlays.filter((o) => o !== overlay);
  }
}

/** A dry run in a few lines: what would be created, what is there already, what does not map. */
export function previewLines(plan: ImportPlan): string[] {
  const lines = [`${plan.read} item(s) read: would create ${plan.create.length}${plan.create.length ? ` (${kindCounts(plan)})` : ''}`];
  if (plan.existing.length) lines.push(`${plan.existing.length} already in the vault: left as they are`);
  if (plan.deleted.length) lines.push(`${plan.deleted.length} imported before and deleted since: not made again`);
  if (plan.unmapped.length) lines.push(`not imported or not kept (${plan.unmapped.length}):`, ...plan.unmapped.map((u) => `  ${u.item}: ${u.what}`));
  lines.push(plan.create.length ? 'Enter imports them.' : 'Nothing to import.');
  return lines;
}
