/**
 * The import and export prompt: which way, the format (Left/Right), the file's path and, when the
 * format needs one, a password; an import shows its dry run first and imports on a second Enter.
 * A pure state machine with the lines to draw; the work is the client core's (core/import, core/export).
 */
import { homedir } from 'node:os';
import type { Key } from '../kit/keys.js';
import { drawLine, editLine, line, type LineState } from '../kit/line-editor.js';
import { escapeTags, fit, sanitize, UNICODE_GLYPHS, wrap, type Glyphs } from '../kit/text.js';
import { IMPORT_FORMATS } from '../../core/import/types.js';
import { EXPORT_FORMATS } from '../../core/export/formats.js';

export interface TransferState {
  direction: 'import' | 'export';
  format: number;
  path: LineState;
  password: LineState;
  /** 0 the format, 1 the path, 2 the password. */
  row: 0 | 1 | 2;
  /** An import's dry run, shown before it is applied: Enter again imports. */
  preview?: string[] | undefined;
}

export function transferForm(direction: 'import' | 'export'): TransferState {
  return { direction, format: 0, path: line(direction === 'export' ? '~/keeper-export.json' : ''), password: line(), row: 0 };
}

export function formatsOf(state: TransferState): readonly string[] {
  return state.direction === 'import' ? IMPORT_FORMATS : EXPORT_FORMATS;
}

export function formatOf(state: TransferState): string {
  return formatsOf(state)[state.format]!;
}

/** Whether the chosen format takes a password (asked only then). */
export function needsPassword(state: TransferState): boolean {
  const format = formatOf(state);
  return format === 'kdbx' || format === 'keeper' || format === 'encrypted';
}

export type TransferAction = 'submit' | 'cancel';

export function transferKey(state: TransferState, key: Key): { state: TransferState; action?: TransferAction } {
  const rows = needsPassword(state) ? 3 : 2;
  switch (key.full) {
    case 'escape':
      return { state, action: 'cancel' };
    case 'enter':
    case 'C-s':
      return { state, action: 'submit' };
    case 'tab':
    case 'down':
      return { state: { ...state, row: ((state.row + 1) % rows) as TransferState['row'] } };
    case 'S-tab':
    case 'up':
      return { state: { ...state, row: ((state.row + rows - 1) % rows) as TransferState['row'] } };
  }
  if (state.row === 0) {
    const count = formatsOf(state).length;
    if (key.full === 'left' || key.full === 'right') {
      const format = (state.format + (key.full === 'left' ? count - 1 : 1)) % count;
      return { state: { ...state, format, preview: undefined, path: state.direction === 'export' ? line(defaultExportPath(formatsOf(state)[format]!)) : state.path } };
    }
    return { state };
  }
  const box = state.row === 1 ? 'path' : 'password';
  const edited = editLine(state[box], key, 4096);
  return { state: edited ? { ...state, [box]: edited, preview: undefined } : state };
}

function defaultExportPath(format: string): string {
  return `~/keeper-export.${format === 'csv' ? 'csv' : format === 'encrypted' ? 'keeper' : 'json'}`;
}

/** The path typed, a leading ~ as the home directory; undefined when empty. */
export function transferPath(state: TransferState, home: string = homedir()): string | undefined {
  const path = state.path.text.trim();
  if (path === '') return undefined;
  return path === '~' || path.startsWith('~/') ? home + path.slice(1) : path;
}

export function transferTitle(state: TransferState): string {
  return state.direction === 'import' ? 'Import records from a file' : 'Export the vault to a file';
}

export function transferLines(state: TransferState, width: number, status: { busy: boolean; progress?: string | undefined; error?: string | undefined }, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const label = 10;
  const boxWidth = Math.max(8, width - label - 2);
  const mark = (row: number) => (state.row === row ? '>' : ' ');
  const box = (value: LineState, row: number, secret = false) => `{underline}${drawLine(value, boxWidth, { focused: !status.busy && state.row === row, secret, glyphs })}{/underline}`;
  const about =
    state.direction === 'import'
      ? 'Bitwarden (.json or .csv), KeePassXC (.csv), KeePass (.kdbx) or a Keeper export. Importing again adds nothing twice.'
      : 'json and csv hold your records in plaintext; encrypted seals them under the password.';
  const lines = ['', ...wrap(about, width - 2).map((l) => ` ${escapeTags(l)}`), ''];
  lines.push(`${mark(0)}${fit('Format', label - 1)} ${escapeTags(`< ${formatOf(state)} >`)}`);
  lines.push(`${mark(1)}${fit('File', label - 1)} ${box(state.path, 1)}`);
  if (needsPassword(state)) lines.push(`${mark(2)}${fit('Password', label - 1)} ${box(state.password, 2, true)}`);
  lines.push('');
  if (status.busy) lines.push(` ${escapeTags(fit(sanitize(status.progress ?? 'working...', glyphs), width - 2, glyphs))}`);
  else if (status.error) lines.push(...wrap(sanitize(status.error, glyphs), width - 2).map((l) => ` {red-fg}${escapeTags(l)}{/red-fg}`));
  else if (state.preview) lines.push(...state.preview.flatMap((p) => wrap(sanitize(p, glyphs), width - 2)).slice(0, 12).map((l) => ` ${escapeTags(l)}`));
  lines.push('');
  const enter = state.direction === 'export' ? 'export' : state.preview ? 'import now' : 'dry run';
  lines.push(` Enter: ${enter}   Left/Right: format   Tab: next   Esc: cancel`);
  return lines;
}
