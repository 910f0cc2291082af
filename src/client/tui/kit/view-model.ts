/**
 * What the screen shows, as pure functions of the data: the rows the list shows for a filter, the
 * lines of the open record (masked or revealed) and its images, the status bar, the history and
 * the help. No blessed here: the results are tagged strings that fit the width they are given.
 */
import { IMAGE_RENDITIONS, type ImageRendition, type ImageState, type ImageStatus } from '../../../domain/images.js';
import type { Field, RecordKind } from '../../../domain/record.js';
import type { SearchHit } from '../../search/index.js';
import { maskField } from '../../core/masking.js';
import { hasAllTags, parseFilterText } from '../../core/record-filter.js';
import type { OpenedRecord } from '../../sync/record-crypto.js';
import { HELP } from './keys.js';
import { clip, escapeTags, fit, hardWrap, padEnd, padStart, sanitize, stripTags, textWidth, UNICODE_GLYPHS, wrap, type Glyphs } from './text.js';
import { formatBytes } from '../../../domain/byte-sizes.js';

/** The list shows at most this many matches; a narrower filter finds the rest. */
export const LIST_LIMIT = 1000;

export type SearchFn = (query: string, options: { limit: number }) => { total: number; hits: Array<SearchHit & { record: OpenedRecord }> };

export interface ListRow {
  id: string;
  name: string;
  kind: RecordKind;
  updatedAt: number;
  /** Set on a conflict copy: the record whose concurrent edit it keeps. */
  conflictOf?: string | undefined;
  /** The name is sealed and the vault is locked. */
  sealedName: boolean;
  favourite: boolean;
}

export interface ListModel {
  rows: ListRow[];
  /** Records matching the filter (may be more than the rows shown). */
  matches: number;
  /** Records in the vault. */
  all: number;
  filter: string;
}

/**
 * The rows for a filter, from the in-memory search (every record, by name, starred ones first,
 * when the filter is empty). `#tag` words and a lone `*` in the filter keep records with those
 * tags, or starred ones (see parseFilterText).
 */
export function listModel(search: SearchFn, filter: string, limit = LIST_LIMIT): ListModel {
  const parsed = parseFilterText(filter);
  const narrowed = parsed.tags.length > 0 || parsed.filter.favourite === true;
  let result = search(parsed.query, { limit: narrowed ? Number.MAX_SAFE_INTEGER : limit });
  if (narrowed) {
    const kept = result.hits.filter(({ record }) => (!parsed.filter.favourite || record.favourite) && hasAllTags(record, parsed.tags));
    result = { total: kept.length, hits: kept.slice(0, limit) };
  }
  const hits = parsed.query === '' ? [...result.hits.filter((hit) => hit.record.favourite), ...result.hits.filter((hit) => !hit.record.favourite)] : result.hits;
  const all = filter === '' ? result.total : search('', { limit: 0 }).total;
  return {
    rows: hits.map(({ record }) => ({
      id: record.id,
      name: record.name,
      kind: record.kind,
      updatedAt: record.updatedAt,
      conflictOf: record.conflictOf,
      sealedName: record.unreadable.includes('name'),
      favourite: record.favourite,
    })),
    matches: result.total,
    all,
    filter,
  };
}

/** The list box's title: how many records, and how many match the filter. */
export function listTitle(model: ListModel): string {
  if (model.filter === '') return `Records (${model.all})`;
  const shown = model.rows.length < model.matches ? `, first ${model.rows.length}` : '';
  return `Records (${model.matches} of ${model.all}${shown})`;
}

/** What the list says when it has no rows. */
export function emptyListText(model: ListModel): string {
  if (model.all === 0) return 'No records yet. Press n to add one.';
  return `Nothing matches "${model.filter}". Esc clears the filter.`;
}

const KIND_WIDTH = 6;

/** A name gets at least this many columns; narrower rows drop the time, then the kind. */
const NAME_MIN = 12;

/** One row, exactly `width` columns: conflict mark, name, kind, when it changed. */
export function listLine(row: ListRow, width: number, now: number, glyphs: Glyphs = UNICODE_GLYPHS): string {
  const updated = formatUpdated(row.updatedAt, now);
  const updatedWidth = 10;
  const mark = row.conflictOf ? glyphs.conflict : row.favourite ? '*' : ' ';
  const name = row.sealedName ? '(sealed)' : sanitize(row.name, glyphs);
  const full = width - 1 - 1 - KIND_WIDTH - 1 - updatedWidth;
  const withKind = width - 1 - 1 - KIND_WIDTH;
  let text: string;
  if (full >= NAME_MIN) text = `${mark}${fit(name, full, glyphs)} ${padEnd(row.kind, KIND_WIDTH)} ${padStart(updated, updatedWidth)}`;
  else if (withKind >= NAME_MIN) text = `${mark}${fit(name, withKind, glyphs)} ${padEnd(row.kind, KIND_WIDTH)}`;
  else text = `${mark}${name}`;
  return fit(text, width, glyphs);
}

/** Today: the time; otherwise the date (local time). */
export function formatUpdated(ms: number, now: number): string {
  if (!ms) return '-';
  const date = new Date(ms);
  const today = new Date(now);
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  return sameDay ? `${two(date.getHours())}:${two(date.getMinutes())}` : formatDate(date);
}

export function formatDateTime(ms: number): string {
  if (!ms) return '-';
  const date = new Date(ms);
  return `${formatDate(date)} ${two(date.getHours())}:${two(date.getMinutes())}`;
}

function formatDate(date: Date): string {
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

// ---- the open record ------------------------------------------------------------------------

export const MASK = maskField({ name: '', value: '', sensitive: true }, false);

/** A field's value as shown: masked while sensitive and hidden, "(sealed)" when locked and sealed. */
export function fieldValue(field: Field, options: { revealed: boolean; unreadable: boolean }): string {
  if (options.unreadable) return '(sealed)';
  return maskField(field, options.revealed);
}

export interface DetailLine {
  /** Tagged text, at most the width asked for. */
  text: string;
  /** The field this line shows (its first line or a continuation). */
  field?: number;
  /** The image this line shows (its name, its facts or a saved path). */
  image?: number;
}

export interface DetailOptions {
  revealed: boolean;
  /** The highlighted field, when the user is choosing one. */
  selectedField?: number | undefined;
  width: number;
  /** The name of the record a conflict copy keeps an edit of. */
  conflictOfName?: string | undefined;
  /** The record's images; left out (history) means no images section at all. */
  images?: ImageRow[] | undefined;
  /** The highlighted image, when the user is choosing one. */
  selectedImage?: number | undefined;
  glyphs?: Glyphs;
}

/** The open record: name, kind and times, then one line (or more, wrapped) per field, then its images. */
export function detailLines(record: OpenedRecord, options: DetailOptions): DetailLine[] {
  const glyphs = options.glyphs ?? UNICODE_GLYPHS;
  const width = Math.max(1, options.width);
  const lines: DetailLine[] = [];
  const plain = (text: string, style?: string) => {
    for (const part of wrap(text, width)) {
      const escaped = escapeTags(part);
      lines.push({ text: style ? `{${style}}${escaped}{/${style}}` : escaped });
    }
  };
  const unreadable = new Set(record.unreadable);
  plain(unreadable.has('name') ? '(sealed name)' : sanitize(record.name, glyphs), 'bold');
  plain(`${record.kind} ${glyphs.separator} id ${record.id.slice(0, 8)} ${glyphs.separator} version ${record.version}`);
  plain(`updated ${formatDateTime(record.updatedAt)}`);
  if (record.favourite || record.tags.length > 0) {
    plain(`${record.favourite ? '* favourite' : ''}${record.favourite && record.tags.length > 0 ? '  ' : ''}${record.tags.length > 0 ? `tags: ${record.tags.map((tag) => `#${sanitize(tag, glyphs)}`).join(' ')}` : ''}`);
  }
  lines.push({ text: '' });
  if (record.fields.length === 0) plain('(no fields)');
  const nameWidth = Math.min(Math.max(4, ...record.fields.map((f) => textWidth(sanitize(f.name, glyphs)))), Math.max(4, Math.floor(width / 3)));
  const valueWidth = Math.max(1, width - nameWidth - 2);
  record.fields.forEach((field, index) => {
    const value = fieldValue(field, { revealed: options.revealed, unreadable: unreadable.has(field.name) });
    const valueLines = wrap(value, valueWidth);
    const note = field.sensitive ? ' (sensitive)' : '';
    const selected = options.selectedField === index;
    valueLines.forEach((part, i) => {
      const name = i === 0 ? fit(sanitize(field.name, glyphs), nameWidth, glyphs) : ' '.repeat(nameWidth);
      let text = `${name}  ${part}`;
      if (i === valueLines.length - 1 && textWidth(text + note) <= width) text += note;
      const escaped = escapeTags(selected ? padEnd(text, width) : text);
      lines.push({ text: selected ? `{inverse}${escaped}{/inverse}` : escaped, field: index });
    });
    const last = valueLines[valueLines.length - 1] ?? '';
    if (note && textWidth(`${' '.repeat(nameWidth)}  ${last}${note}`) > width) {
      // A long value fills its last line: the mark goes under it rather than away.
      const text = clip(`${' '.repeat(nameWidth)}  ${note.trim()}`, width, glyphs);
      const escaped = escapeTags(selected ? padEnd(text, width) : text);
      lines.push({ text: selected ? `{inverse}${escaped}{/inverse}` : escaped, field: index });
    }
  });
  if (options.images) {
    lines.push({ text: '' });
    lines.push(...imageLines(options.images, { width, selected: options.selectedImage, glyphs }));
  }
  if (record.conflictOf) {
    lines.push({ text: '' });
    const of = options.conflictOfName !== undefined ? `"${sanitize(options.conflictOfName, glyphs)}" (${record.conflictOf.slice(0, 8)})` : record.conflictOf.slice(0, 8);
    plain(`${glyphs.conflict} Conflict copy of ${of}: it keeps your version of a change made elsewhere at the same time.`, 'yellow-fg');
  }
  const sealedFields = record.unreadable.filter((label) => label !== 'name');
  if (unreadable.size > 0) {
    lines.push({ text: '' });
    plain(`Sealed, not readable while locked${sealedFields.length ? `: ${sealedFields.join(', ')}` : ''}.`);
  }
  return lines;
}

// ---- images -------------------------------------------------------------------------------

/** An image of the open record as the detail pane shows it. */
export interface ImageRow {
  id: string;
  /** The file name as the user gave it ("(sealed name)" while it cannot be opened). */
  name: string;
  /** Of the original as uploaded. */
  size: number;
  width: number;
  height: number;
  status: ImageStatus;
  failure?: string | undefined;
  sealed: boolean;
  /** The renditions the server holds: the ones that can be saved. */
  renditions: ImageRendition[];
  /** Where this machine saved each rendition (kept in the local cache). */
  saved: Partial<Record<ImageRendition, string>>;
}

/** The row of an image, given its name as opened and the files saved of it here. */
export function imageRow(image: ImageState, name: string, saved: Partial<Record<ImageRendition, string>>): ImageRow {
  return {
    id: image.id,
    name,
    size: image.original.size,
    width: image.original.width,
    height: image.original.height,
    status: image.status,
    failure: image.failure,
    sealed: image.encrypted,
    renditions: IMAGE_RENDITIONS.filter((r) => r === 'original' || (r === 'cover' ? image.cover : image.compact) !== undefined),
    saved,
  };
}

export const RENDITION_NAMES: Record<ImageRendition, string> = { original: 'original', cover: 'cover', compact: 'compact copy' };


/** Size, pixels (a sealed original has none the server could read) and status, on one line. */
export function imageFacts(row: ImageRow, glyphs: Glyphs = UNICODE_GLYPHS): string {
  const parts = [formatBytes(row.size)];
  if (row.width > 0 && row.height > 0) parts.push(`${row.width}x${row.height}`);
  if (row.sealed) parts.push('sealed');
  parts.push(row.status === 'failed' ? `failed: ${sanitize(row.failure ?? 'no reason given', glyphs)}` : row.status);
  return parts.join(` ${glyphs.separator} `);
}

/**
 * The images section: a title, then per image its name, its facts, and the path of each rendition
 * saved here. Every line is tagged with its image, so the caller can scroll to the chosen one.
 */
export function imageLines(rows: ImageRow[], options: { width: number; selected?: number | undefined; glyphs?: Glyphs }): DetailLine[] {
  const glyphs = options.glyphs ?? UNICODE_GLYPHS;
  const width = Math.max(1, options.width);
  const lines: DetailLine[] = [];
  if (rows.length === 0) {
    for (const part of wrap('No images. a attaches one.', width)) lines.push({ text: `{gray-fg}${escapeTags(part)}{/gray-fg}` });
    return lines;
  }
  lines.push({ text: `{bold}${escapeTags(clip(`Images (${rows.length})`, width, glyphs))}{/bold}` });
  rows.forEach((row, index) => {
    const selected = options.selected === index;
    const name = `${selected ? '>' : ' '}${fit(sanitize(row.name, glyphs), width - 1, glyphs)}`;
    lines.push({ text: selected ? `{inverse}${escapeTags(name)}{/inverse}` : escapeTags(name), image: index });
    const facts = wrap(imageFacts(row, glyphs), Math.max(1, width - 2)).map((part) => escapeTags(`  ${part}`));
    const color = row.status === 'failed' ? 'red-fg' : row.status === 'processing' ? 'yellow-fg' : undefined;
    for (const part of facts) lines.push({ text: color ? `{${color}}${part}{/${color}}` : part, image: index });
    for (const rendition of IMAGE_RENDITIONS) {
      const path = row.saved[rendition];
      if (path === undefined) continue;
      lines.push({ text: escapeTags(clip(`  ${RENDITION_NAMES[rendition]} saved at`, width, glyphs)), image: index });
      // A path has no spaces to break at: it is cut wherever the width runs out, nothing dropped.
      for (const part of hardWrap(sanitize(path, glyphs), Math.max(1, width - 4))) lines.push({ text: escapeTags(`    ${part}`), image: index });
    }
  });
  return lines;
}

// ---- status bar and header ----------------------------------------------------------------

export interface StatusInfo {
  connection: 'connecting' | 'online' | 'offline';
  syncing: boolean;
  /** Last synced version of the user's log. */
  version: number;
  /** When the last sync succeeded (local clock). */
  syncedAt?: number | undefined;
  pending: number;
  lock: 'not encrypted' | 'unlocked' | 'locked';
}

/** The status bar: connection, last synced version and time, changes waiting, lock state. */
export function statusText(info: StatusInfo, width: number, now: number, glyphs: Glyphs = UNICODE_GLYPHS): string {
  const sep = ` ${glyphs.separator} `;
  const connection =
    info.connection === 'online' ? `${glyphs.online} online` : info.connection === 'offline' ? `${glyphs.offline} offline` : `${glyphs.offline} connecting`;
  // Offline before any sync this run: the local copy is what there is, at its own version.
  const localOnly = info.connection === 'offline' && !info.syncedAt;
  const synced = info.syncedAt ? `synced ${formatUpdated(info.syncedAt, now)}${sameMinuteSeconds(info.syncedAt, now)}` : 'not synced yet';
  const where = localOnly ? [`${connection}, local copy at version ${info.version}`] : [info.syncing ? `${connection}, syncing` : connection, `version ${info.version}`, synced];
  const parts = [...where, `${info.pending} pending`, info.lock === 'not encrypted' ? 'not encrypted' : info.lock];
  let text = ` ${parts.join(sep)}`;
  // Narrow terminals: drop the words before dropping facts.
  if (textWidth(text) > width) {
    const short = localOnly ? [`${connection}, local v${info.version}`] : [info.syncing ? `${connection}*` : connection, `v${info.version}`, synced.replace('synced ', '')];
    text = ` ${[...short, `${info.pending}p`, info.lock].join(' ')}`;
  }
  return fit(text, width, glyphs);
}

function sameMinuteSeconds(ms: number, now: number): string {
  const date = new Date(ms);
  const today = new Date(now);
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? `:${two(date.getSeconds())}` : '';
}

export function headerText(who: string, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string {
  const right = '? help  q quit ';
  const left = ` Keeper ${glyphs.separator} ${sanitize(who, glyphs)}`;
  const room = width - textWidth(right);
  if (room < 10) return fit(left, width, glyphs);
  return fit(left, room, glyphs) + right;
}

// ---- history --------------------------------------------------------------------------------

export interface VersionRow {
  version: number;
  at: number;
  type: string;
  clientId: string;
  name: string;
}

const CHANGE: Record<string, string> = { RecordCreated: 'created', RecordUpdated: 'changed', RecordDeleted: 'deleted', RecordRestored: 'restored' };

/** One version in the history list, exactly `width` columns. */
export function versionLine(row: VersionRow, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string {
  const change = CHANGE[row.type] ?? row.type;
  const text = `${padStart(`v${row.version}`, 6)}  ${formatDateTime(row.at)}  ${padEnd(change, 8)}  ${sanitize(row.name, glyphs)}`;
  return fit(text, width, glyphs);
}

// ---- help -----------------------------------------------------------------------------------

/** The help overlay's lines: every key, by screen, in two columns when there is room. */
export function helpLines(width: number): string[] {
  const keyWidth = 14;
  const blocks = HELP.map((section) => [
    `{bold}${escapeTags(section.title)}{/bold}`,
    ...section.keys.map(([keys, what]) => escapeTags(`${padEnd(keys, keyWidth)}${what}`)),
  ]);
  if (width < 76) return blocks.flatMap((block) => [...block, '']).slice(0, -1);
  // Whole sections, in order: the first ones go left, the rest right, split where the taller column is shortest.
  const columnWidth = Math.floor(width / 2);
  const total = blocks.reduce((n, block) => n + block.length, 0);
  let split = 1;
  let best = Infinity;
  for (let k = 1, above = 0; k <= blocks.length; k++) {
    above += blocks[k - 1]!.length;
    const taller = Math.max(above, total - above);
    if (taller < best) {
      best = taller;
      split = k;
    }
  }
  const left = blocks.slice(0, split).flat();
  const right = blocks.slice(split).flat();
  // The right column starts where every left line has two spaces after it, so none runs into it.
  const start = Math.max(columnWidth, ...left.map((l) => textWidth(stripTags(l)) + 2));
  if (start + Math.max(...right.map((l) => textWidth(stripTags(l)))) > width) return blocks.flatMap((block) => [...block, '']).slice(0, -1);
  const out: string[] = [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i] ?? '';
    out.push(`${l}${' '.repeat(start - textWidth(stripTags(l)))}${right[i] ?? ''}`);
  }
  return out;
}

/** The message area grows to this many rows for a long message; `m` has the whole of a longer one. */
export const MESSAGE_ROWS = 3;

/** A message wrapped to the width, on at most MESSAGE_ROWS rows (the last one saying `m` has the rest). */
export function messageLines(text: string, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const rows = wrap(sanitize(text, glyphs), Math.max(1, width - 1)).map((row) => ` ${row}`);
  if (rows.length <= MESSAGE_ROWS) return rows;
  const more = `${glyphs.ellipsis} m shows all`;
  // The last row is cut where the pointer to `m` still fits after it.
  const last = clip(rows[MESSAGE_ROWS - 1]!, Math.max(1, width - textWidth(more) + textWidth(glyphs.ellipsis)), glyphs);
  const kept = rows.slice(0, MESSAGE_ROWS - 1);
  kept.push(`${last.endsWith(glyphs.ellipsis) ? last.slice(0, -glyphs.ellipsis.length) : last}${more}`);
  return kept;
}
