import type { SyncView } from '../../api/schemas.js';

/** What the panes of the vault screen ask of it. */
export interface VaultActions {
  say(text: string, tone?: 'info' | 'error'): void;
  /** Any failure: a sentence on the page, or the login / unlock screen when the session or the lock says so. */
  fail(error: unknown): void;
  noteSync(sync: SyncView): void;
  openRecord(id: string): void;
  /** Something changed here: the list (and whatever is open) is read again. */
  changed(): void;
}
