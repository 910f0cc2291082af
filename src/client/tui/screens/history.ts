/**
 * The history of one record (every version from the log, newest first, the chosen one shown
 * below) and the list of deleted records, as pure models with the lines to draw.
 */
import type { RecordVersion } from '../../sync/history.js';
import type { OpenedRecord } from '../../sync/record-crypto.js';
import type { Key } from '../kit/keys.js';
import { scrollTop } from '../kit/layout.js';
import { escapeTags, fit, sanitize, UNICODE_GLYPHS, wrap, type Glyphs } from '../kit/text.js';
import { describeChange, diffRecords } from '../../core/record-diff.js';
import { detailLines, formatDateTime, versionLine } from '../kit/view-model.js';

export interface HistoryState {
  recordId: string;
  /** Newest first. */
  versions: RecordVersion[];
  selected: number;
  top: number;
  revealed: boolean;
}

/** Newest first, with the newest version that is not a deletion chosen (the one worth restoring). */
export function historyState(recordId: string, versions: RecordVersion[]): HistoryState {
  const newestFirst = [...versions].reverse();
  const selected = Math.max(
    0,
    newestFirst.findIndex((v) => v.state.deletedAt === null),
  );
  return { recordId, versions: newestFirst, selected, top: 0, revealed: false };
}

export type ListAction = 'choose' | 'close';

/** Up/Down, PgUp/PgDn, Home/End over `count` rows; Enter chooses, Esc closes. */
export function moveInList(selected: number, count: number, key: Key, page = 10): number | undefined {
  if (count === 0) return undefined;
  switch (key.full) {
    case 'up':
    case 'k':
      return Math.max(0, selected - 1);
    case 'down':
    case 'j':
      return Math.min(count - 1, selected + 1);
    case 'pageup':
      return Math.max(0, selected - page);
    case 'pagedown':
      return Math.min(count - 1, selected + page);
    case 'home':
      return 0;
    case 'end':
      return count - 1;
    default:
      return undefined;
  }
}

export function historyKey(state: HistoryState, key: Key): { state: HistoryState; action?: ListAction } {
  if (key.full === 'escape' || key.full === 'q' || key.full === 'h') return { state, action: 'close' };
  if (key.full === 'enter') return { state, action: 'choose' };
  if (key.full === 'r') return { state: { ...state, revealed: !state.revealed } };
  const selected = moveInList(state.selected, state.versions.length, key);
  return { state: selected === undefined ? state : { ...state, selected } };
}

/**
 * The versions list in the upper part (at most half the height), then the chosen version as it
 * was. `open` gives the plaintext view of a version's record.
 */
export function historyLines(state: HistoryState, open: (v: RecordVersion) => OpenedRecord, width: number, height: number, glyphs: Glyphs = UNICODE_GLYPHS): { lines: string[]; top: number } {
  const listHeight = Math.max(1, Math.min(state.versions.length, Math.floor((height - 2) / 2)));
  const top = scrollTop(state.versions.length, state.selected, listHeight, state.top);
  const lines: string[] = [];
  for (let i = top; i < Math.min(state.versions.length, top + listHeight); i++) {
    const version = state.versions[i]!;
    const opened = open(version);
    const text = escapeTags(
      versionLine({ version: version.version, at: version.at, type: version.type, clientId: version.clientId, name: opened.unreadable.includes('name') ? '(sealed)' : opened.name }, width, glyphs),
    );
    lines.push(i === state.selected ? `{inverse}${text}{/inverse}` : text);
  }
  lines.push(fit('', width).replace(/ /g, '-'));
  const chosen = state.versions[state.selected];
  if (chosen) {
    // What this version changed from the one before it (older ones are further down the list).
    const older = state.versions[state.selected + 1];
    const changes = diffRecords(older ? open(older) : undefined, open(chosen), { reveal: state.revealed, deleted: chosen.state.deletedAt !== null });
    if (chosen.type === 'RecordRestored') changes.unshift({ what: 'restored', fromVersion: chosen.fromVersion });
    lines.push(`{bold}${escapeTags(fit(`What version ${chosen.version} changed`, width, glyphs))}{/bold}`);
    for (const change of changes) for (const part of wrap(sanitize(describeChange(change), glyphs), Math.max(1, width - 2))) lines.push(escapeTags(`  ${part}`));
    lines.push('');
    if (chosen.state.deletedAt !== null) lines.push(escapeTags(fit(`Version ${chosen.version} deleted the record; choose an earlier one to restore.`, width, glyphs)));
    else for (const l of detailLines(open(chosen), { revealed: state.revealed, width, glyphs })) lines.push(l.text);
  }
  return { lines: lines.slice(0, height), top };
}

export const HISTORY_HINT = 'Enter restore  r reveal  Esc close';

// ---- deleted records -------------------------------------------------------------------------

export interface DeletedState {
  records: OpenedRecord[];
  selected: number;
  top: number;
}

export function deletedKey(state: DeletedState, key: Key): { state: DeletedState; action?: ListAction } {
  if (key.full === 'escape' || key.full === 'q' || key.full === 'u') return { state, action: 'close' };
  if (key.full === 'enter') return state.records.length > 0 ? { state, action: 'choose' } : { state };
  const selected = moveInList(state.selected, state.records.length, key);
  return { state: selected === undefined ? state : { ...state, selected } };
}

export function deletedLines(state: DeletedState, width: number, height: number, glyphs: Glyphs = UNICODE_GLYPHS): { lines: string[]; top: number } {
  if (state.records.length === 0) return { lines: ['No deleted records.'], top: 0 };
  const top = scrollTop(state.records.length, state.selected, height, state.top);
  const lines: string[] = [];
  for (let i = top; i < Math.min(state.records.length, top + height); i++) {
    const record = state.records[i]!;
    const name = record.unreadable.includes('name') ? '(sealed)' : sanitize(record.name, glyphs);
    const text = escapeTags(fit(`${fit(name, Math.max(4, width - 26), glyphs)} ${fit(record.kind, 6)} ${formatDateTime(record.updatedAt)}`, width, glyphs));
    lines.push(i === state.selected ? `{inverse}${text}{/inverse}` : text);
  }
  return { lines, top };
}

export const DELETED_HINT = 'Enter history and restore  Esc close';
