/**
 * The create / edit form as a pure state machine: keys in, state (and maybe 'save' or 'cancel')
 * out, and the lines to draw. What it produces on save is exactly what the sync engine's create
 * and update take; an edit sends only what changed, so a concurrent change to another field of
 * the same record on another device is not overwritten.
 */
import { RECORD_KINDS } from '../../../domain/limits.js';
import { normaliseField, type Field, type FieldKind, type RecordKind } from '../../../domain/record.js';
import { parseTagText, tagText } from '../../core/record-filter.js';
import { describeEntropy, generatePassword } from '../../core/generator.js';
import { RECORD_TEMPLATES } from '../../../domain/record-templates.js';
import type { OpenedRecord } from '../../sync/record-crypto.js';
import type { Key } from '../kit/keys.js';
import { drawLine, editLine, line, type LineState } from '../kit/line-editor.js';
import { escapeTags, fit, sanitize, UNICODE_GLYPHS, wrap, type Glyphs } from '../kit/text.js';

export interface FormField {
  name: LineState;
  value: LineState;
  sensitive: boolean;
  /** text, or totp: a one-time-code secret (C-o), always sensitive. */
  kind: FieldKind;
  /**
   * The name box takes keys: a field the user added (or a template field without a name), or
   * one they chose to rename (F2). Otherwise the name is fixed and Tab goes value to value, so a
   * value can never land in a template field's name.
   */
  renaming: boolean;
}

export interface FormState {
  mode: 'create' | 'edit';
  recordId?: string;
  /** The record as it was when the form opened (edit only). */
  original?: { name: string; kind: RecordKind; fields: Field[]; tags: string[]; favourite: boolean };
  name: LineState;
  kind: RecordKind;
  fields: FormField[];
  /** The tags, separated by commas, on the row after the fields. */
  tags: LineState;
  favourite: boolean;
  /** 0 = name, 1 = kind, 2 + i = field i, then the tags (2 + fields.length). */
  row: number;
  /** On a field row: 0 = its name, 1 = its value. */
  column: 0 | 1;
  revealed: boolean;
  /** The user changed the fields: a kind change no longer swaps in that kind's template. */
  touched: boolean;
  /** Save was asked for while named fields have no value: their names, until the user answers. */
  asking?: string[] | undefined;
  /** The answer: leave the empty fields out, or keep them with empty values. */
  empty?: 'drop' | 'keep' | undefined;
  /** Said under the fields after C-g filled one with a new password: which, and its entropy. */
  generated?: string | undefined;
}

function template(kind: RecordKind): FormField[] {
  return RECORD_TEMPLATES[kind].map(([name, sensitive]) => ({ name: line(name), value: line(), sensitive, kind: 'text' as const, renaming: name === '' }));
}

function blankField(): FormField {
  return { name: line(), value: line(), sensitive: false, kind: 'text', renaming: true };
}

/** The row of the tags box. */
export function tagsRow(state: FormState): number {
  return 2 + state.fields.length;
}

export function newRecordForm(kind: RecordKind = 'login'): FormState {
  return { mode: 'create', name: line(), kind, fields: template(kind), tags: line(), favourite: false, row: 0, column: 1, revealed: false, touched: false };
}

export function editRecordForm(record: OpenedRecord): FormState {
  return {
    mode: 'edit',
    recordId: record.id,
    original: { name: record.name, kind: record.kind, fields: record.fields.map((f) => ({ ...f })), tags: [...record.tags], favourite: record.favourite },
    name: line(record.name),
    kind: record.kind,
    fields: record.fields.map((f) => ({ name: line(f.name), value: line(f.value), sensitive: f.sensitive, kind: f.kind ?? 'text', renaming: false })),
    tags: line(tagText(record.tags)),
    favourite: record.favourite,
    row: 0,
    column: 1,
    revealed: false,
    touched: true,
  };
}

/** The boxes in Tab order: name, kind, then each field's value (its name first while it takes keys). */
function cells(state: FormState): Array<[row: number, column: 0 | 1]> {
  const out: Array<[number, 0 | 1]> = [
    [0, 1],
    [1, 1],
  ];
  state.fields.forEach((f, i) => {
    if (f.renaming) out.push([2 + i, 0]);
    out.push([2 + i, 1]);
  });
  out.push([tagsRow(state), 1]);
  return out;
}

/** Up/Down land on a field's value, or on its name while that is still to be typed. */
function moveRow(state: FormState, row: number): FormState {
  const field = state.fields[row - 2];
  const column = field && field.renaming && field.name.text.trim() === '' ? 0 : 1;
  return { ...state, row, column };
}

/** Named fields with no value: what saving a new record asks about. */
export function emptyFields(state: FormState): string[] {
  if (state.mode !== 'create') return [];
  return state.fields.filter((f) => f.name.text.trim() !== '' && f.value.text === '').map((f) => f.name.text.trim());
}

/** The box that has the keys on the focused row: a fixed name never has them. */
function focusedColumn(state: FormState): 0 | 1 {
  return state.column === 0 && state.fields[state.row - 2]?.renaming ? 0 : 1;
}

function moveCell(state: FormState, by: number): FormState {
  const all = cells(state);
  const focused = focusedColumn(state);
  const at = Math.max(
    0,
    all.findIndex(([row, c]) => row === state.row && (row < 2 || c === focused)),
  );
  const [row, column] = all[Math.max(0, Math.min(all.length - 1, at + by))]!;
  return { ...state, row, column };
}

function cycleKind(kind: RecordKind, by: number): RecordKind {
  const index = RECORD_KINDS.indexOf(kind);
  return RECORD_KINDS[(index + by + RECORD_KINDS.length) % RECORD_KINDS.length]!;
}

export type FormAction = 'save' | 'cancel';

export function formKey(state: FormState, key: Key): { state: FormState; action?: FormAction } {
  if (state.asking) {
    // The question about empty fields takes the keys until it is answered.
    if (key.full === 'y' || key.full === 'Y' || key.full === 'enter') return { state: { ...state, asking: undefined, empty: 'drop' }, action: 'save' };
    if (key.full === 'k' || key.full === 'K') return { state: { ...state, asking: undefined, empty: 'keep' }, action: 'save' };
    if (key.full === 'escape' || key.full === 'n' || key.full === 'N') return { state: { ...state, asking: undefined } };
    return { state };
  }
  const fieldIndex = state.row - 2;
  const onValue = fieldIndex >= 0 && fieldIndex < state.fields.length && focusedColumn(state) === 1;
  if (key.linefeed && onValue) {
    // A note holds several lines: Ctrl-J breaks the line where the cursor is (Enter still moves on).
    const field = state.fields[fieldIndex]!;
    const chars = Array.from(field.value.text);
    const cursor = Math.min(field.value.cursor, chars.length);
    chars.splice(cursor, 0, '\n');
    const value = { text: chars.join(''), cursor: cursor + 1 };
    return { state: { ...state, fields: state.fields.map((f, i) => (i === fieldIndex ? { ...f, value } : f)), touched: true } };
  }
  switch (key.full) {
    case 'C-s': {
      const empty = emptyFields(state);
      if (empty.length > 0 && state.name.text.trim() !== '') return { state: { ...state, asking: empty, empty: undefined } };
      return { state, action: 'save' };
    }
    case 'escape':
      return { state, action: 'cancel' };
    case 'tab':
    case 'enter':
      return { state: moveCell(state, 1) };
    case 'S-tab':
      return { state: moveCell(state, -1) };
    case 'up':
      return { state: moveRow(state, Math.max(0, state.row - 1)) };
    case 'down':
      return { state: moveRow(state, Math.min(tagsRow(state), state.row + 1)) };
    case 'f2': {
      const field = state.fields[fieldIndex];
      if (!field) return { state };
      const fields = state.fields.map((f, i) => (i === fieldIndex ? { ...f, renaming: true } : f));
      return { state: { ...state, fields, column: 0, touched: true } };
    }
    case 'C-r':
      return { state: { ...state, revealed: !state.revealed } };
    case 'C-n':
      return { state: { ...state, fields: [...state.fields, blankField()], row: state.fields.length + 2, column: 0, touched: true } };
    case 'C-f':
      return { state: { ...state, favourite: !state.favourite } };
    case 'C-g': {
      const field = state.fields[fieldIndex];
      if (!field || field.kind === 'totp') return { state };
      const made = generatePassword();
      const fields = state.fields.map((f, i) => (i === fieldIndex ? { ...f, value: line(made.value), sensitive: true } : f));
      const name = field.name.text.trim() || `field ${fieldIndex + 1}`;
      return { state: { ...state, fields, column: 1, touched: true, generated: `${name}: a new random password, ${describeEntropy(made.entropyBits)}` } };
    }
    case 'C-o': {
      const field = state.fields[fieldIndex];
      if (!field) return { state };
      const kind: FieldKind = field.kind === 'totp' ? 'text' : 'totp';
      const fields = state.fields.map((f, i) => (i === fieldIndex ? { ...f, kind, sensitive: kind === 'totp' ? true : f.sensitive } : f));
      return { state: { ...state, fields, touched: true } };
    }
    case 'C-d': {
      if (fieldIndex < 0 || fieldIndex >= state.fields.length) return { state };
      const fields = state.fields.filter((_, i) => i !== fieldIndex);
      return { state: { ...state, fields, row: fields.length === 0 ? 1 : Math.min(state.row, fields.length + 1), touched: true } };
    }
    case 'C-t': {
      if (fieldIndex < 0) return { state };
      // A one-time-code secret stays sensitive.
      const fields = state.fields.map((f, i) => (i === fieldIndex && f.kind !== 'totp' ? { ...f, sensitive: !f.sensitive } : f));
      return { state: { ...state, fields, touched: true } };
    }
  }
  if (state.row === 1) {
    const by = key.full === 'left' ? -1 : key.full === 'right' || key.full === 'space' ? 1 : 0;
    if (by === 0) return { state };
    const kind = cycleKind(state.kind, by);
    // A new record that is still untouched gets the new kind's fields.
    const fields = state.mode === 'create' && !state.touched ? template(kind) : state.fields;
    return { state: { ...state, kind, fields } };
  }
  if (state.row === 0) {
    const edited = editLine(state.name, key);
    return { state: edited ? { ...state, name: edited } : state };
  }
  if (state.row === tagsRow(state)) {
    const edited = editLine(state.tags, key);
    return { state: edited ? { ...state, tags: edited } : state };
  }
  const field = state.fields[fieldIndex];
  if (!field) return { state };
  const onName = focusedColumn(state) === 0;
  const edited = editLine(onName ? field.name : field.value, key);
  if (!edited) return { state };
  const changed = onName ? { ...field, name: edited } : { ...field, value: edited };
  return { state: { ...state, fields: state.fields.map((f, i) => (i === fieldIndex ? changed : f)), touched: true } };
}

export interface FormChanges {
  name?: string;
  kind?: RecordKind;
  setFields: Field[];
  removeFields: string[];
  tags?: string[];
  favourite?: boolean;
}

export type FormOutcome =
  | { ok: true; kind: 'create'; record: { kind: RecordKind; name: string; fields: Field[]; tags: string[]; favourite: boolean } }
  | { ok: true; kind: 'update'; recordId: string; changes: FormChanges; unchanged: boolean }
  | { ok: false; error: string; row: number };

/**
 * What saving means: the record to create, or the changes to an existing one (only what
 * differs). Rows with neither a name nor a value are left out; a named field without a value is
 * kept, unless the user answered the save's question by leaving the empty ones out.
 */
export function formOutcome(state: FormState): FormOutcome {
  const name = state.name.text.trim();
  if (name === '') return { ok: false, error: 'the record needs a name', row: 0 };
  const fields: Field[] = [];
  const seen = new Set<string>();
  for (const [i, f] of state.fields.entries()) {
    const fieldName = f.name.text.trim();
    if (fieldName === '' && f.value.text === '') continue;
    if (fieldName === '') return { ok: false, error: `field ${i + 1} has a value but no name`, row: i + 2 };
    if (seen.has(fieldName)) return { ok: false, error: `there are two fields named "${fieldName}"; field names must differ`, row: i + 2 };
    seen.add(fieldName);
    if (state.mode === 'create' && state.empty === 'drop' && f.value.text === '') continue;
    fields.push(normaliseField({ name: fieldName, value: f.value.text, sensitive: f.sensitive, kind: f.kind }));
  }
  const tags = parseTagText(state.tags.text);
  if (state.mode === 'create' || !state.original || !state.recordId) {
    return { ok: true, kind: 'create', record: { kind: state.kind, name, fields, tags, favourite: state.favourite } };
  }
  const original = state.original;
  const before = new Map(original.fields.map((f) => [f.name, f]));
  const setFields = fields.filter((f) => {
    const old = before.get(f.name);
    return !old || old.value !== f.value || old.sensitive !== f.sensitive || (old.kind ?? 'text') !== (f.kind ?? 'text');
  });
  const removeFields = original.fields.filter((f) => !seen.has(f.name)).map((f) => f.name);
  const changes: FormChanges = { setFields, removeFields };
  if (name !== original.name) changes.name = name;
  if (state.kind !== original.kind) changes.kind = state.kind;
  if (tags.join('\u0000') !== original.tags.join('\u0000')) changes.tags = tags;
  if (state.favourite !== original.favourite) changes.favourite = state.favourite;
  const unchanged =
    changes.name === undefined && changes.kind === undefined && changes.tags === undefined && changes.favourite === undefined && setFields.length === 0 && removeFields.length === 0;
  return { ok: true, kind: 'update', recordId: state.recordId, changes, unchanged };
}

export const FORM_HINT = 'C-s save  Esc cancel  F2 rename field  C-n add field  C-d remove  C-t sensitive  C-o one-time code  C-g generate  C-j new line  C-f star  C-r reveal';

/**
 * The form's lines for a box `width` columns wide, and which line holds the focused box (so
 * the caller can scroll to it).
 */
export function formLines(state: FormState, width: number, glyphs: Glyphs = UNICODE_GLYPHS): { lines: string[]; focus: number } {
  const label = 8;
  const nameWidth = Math.max(6, Math.min(16, Math.floor((width - label) / 3)));
  const flag = 10;
  const valueWidth = Math.max(4, width - label - nameWidth - 1 - flag - 1);
  const box = (state_: LineState, w: number, focused: boolean, secret = false) => `{underline}${drawLine(state_, w, { focused, secret, glyphs })}{/underline}`;
  // A fixed name is plain text: only boxes take keys.
  const fieldName = (f: FormField, focused: boolean) => (f.renaming ? box(f.name, nameWidth, focused) : escapeTags(fit(sanitize(f.name.text, glyphs), nameWidth, glyphs)));
  const mark = (row: number) => (state.row === row ? '>' : ' ');
  const lines: string[] = [];
  const star = state.favourite ? ' *' : '';
  lines.push(`${mark(0)}${fit('Name', label - 1)}${box(state.name, Math.max(4, width - label - star.length), state.row === 0)}${star}`);
  const kinds = RECORD_KINDS.map((k) => (k === state.kind ? `{inverse}${k}{/inverse}` : k)).join(' ');
  lines.push(`${mark(1)}${fit('Kind', label - 1)}${kinds}${state.row === 1 ? '  (Left/Right)' : ''}`);
  lines.push('');
  lines.push(` ${fit('Fields', label - 1)}${fit('name', nameWidth)} ${fit('value', valueWidth)}`);
  state.fields.forEach((f, i) => {
    const row = 2 + i;
    const focused = state.row === row;
    const secret = f.sensitive && !state.revealed;
    const sensitive = f.kind === 'totp' ? fit(' one-time', flag + 1) : f.sensitive ? fit(' sensitive', flag + 1) : ' '.repeat(flag + 1);
    lines.push(`${mark(row)}${' '.repeat(label - 1)}${fieldName(f, focused && focusedColumn(state) === 0)} ${box(f.value, valueWidth, focused && focusedColumn(state) === 1, secret)}${sensitive}`);
  });
  if (state.fields.length === 0) lines.push(`${' '.repeat(label)}(no fields: C-n adds one)`);
  if (state.generated) lines.push(`${' '.repeat(label)}{green-fg}${escapeTags(fit(sanitize(state.generated, glyphs), Math.max(4, width - label), glyphs))}{/green-fg}`);
  lines.push('');
  const tagRow = tagsRow(state);
  lines.push(`${mark(tagRow)}${fit('Tags', label - 1)}${box(state.tags, Math.max(4, width - label), state.row === tagRow)}`);
  if (state.row === tagRow) lines.push(`${' '.repeat(label)}{gray-fg}separate tags with commas{/gray-fg}`);
  if (state.asking) {
    lines.push('');
    for (const part of wrap(`No value in: ${state.asking.join(', ')}. y, Enter: save without them   k: keep them empty   Esc: back to the form`, width - 2)) {
      lines.push(` {yellow-fg}${escapeTags(sanitize(part, glyphs))}{/yellow-fg}`);
    }
    return { lines, focus: lines.length - 1 };
  }
  const focus = state.row < 2 ? state.row : state.row === tagRow ? lines.length - 2 : state.row + 2;
  return { lines, focus };
}

export function formTitle(state: FormState): string {
  return state.mode === 'create' ? 'New record' : `Edit "${state.original?.name ?? ''}"`;
}
