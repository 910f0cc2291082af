import { fieldKindOf } from '../../domain/record.js';
import { foldTag } from '../../domain/tags.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import { MASK } from './masking.js';

/** One thing that changed between two versions of a record, as every face shows history. */
export type RecordChange =
  | { what: 'created' }
  | { what: 'deleted' }
  | { what: 'restored'; fromVersion?: number | undefined }
  | { what: 'name'; before: string; after: string }
  | { what: 'kind'; before: string; after: string }
  | { what: 'tags'; added: string[]; removed: string[] }
  | { what: 'favourite'; after: boolean }
  | {
      what: 'field';
      field: string;
      change: 'added' | 'removed' | 'changed';
      /** The values, masked (MASK) when the field is or was sensitive and not revealed; "(sealed)" when it cannot be read. */
      before?: string;
      after?: string;
      /** Only the sensitive flag or the kind changed, not the value. */
      note?: string;
    };

/**
 * What changed from `before` (undefined: the version created it) to `after`, field by field.
 * A value that is or was sensitive is masked unless `reveal`; one that cannot be opened (locked)
 * is "(sealed)", whatever `reveal`. Two values are compared as opened, so a value sealed again
 * (new ciphertext, same plaintext) is no change.
 */
export function diffRecords(before: OpenedRecord | undefined, after: OpenedRecord, options: { reveal?: boolean; deleted?: boolean } = {}): RecordChange[] {
  if (options.deleted) return [{ what: 'deleted' }];
  const changes: RecordChange[] = [];
  const reveal = Boolean(options.reveal);
  const shown = (record: OpenedRecord, field: OpenedRecord['fields'][number], sensitive: boolean) =>
    record.unreadable.includes(field.name) ? '(sealed)' : sensitive && !reveal ? MASK : field.value;
  if (!before) changes.push({ what: 'created' });
  const beforeName = before && (before.unreadable.includes('name') ? '(sealed)' : before.name);
  const afterName = after.unreadable.includes('name') ? '(sealed)' : after.name;
  if (before && beforeName !== afterName) changes.push({ what: 'name', before: beforeName!, after: afterName });
  if (before && before.kind !== after.kind) changes.push({ what: 'kind', before: before.kind, after: after.kind });
  const had = new Set((before?.tags ?? []).map(foldTag));
  const has = new Set(after.tags.map(foldTag));
  const added = after.tags.filter((tag) => !had.has(foldTag(tag)));
  const removed = (before?.tags ?? []).filter((tag) => !has.has(foldTag(tag)));
  if (added.length > 0 || removed.length > 0) changes.push({ what: 'tags', added, removed });
  if ((before?.favourite ?? false) !== after.favourite) changes.push({ what: 'favourite', after: after.favourite });
  const old = new Map((before?.fields ?? []).map((f) => [f.name, f]));
  for (const field of after.fields) {
    const previous = old.get(field.name);
    if (!previous) {
      changes.push({ what: 'field', field: field.name, change: 'added', after: shown(after, field, field.sensitive) });
      continue;
    }
    const sensitive = field.sensitive || previous.sensitive;
    const valueBefore = shown(before!, previous, sensitive);
    const valueAfter = shown(after, field, sensitive);
    const sameValue = previous.value === field.value && !before!.unreadable.includes(field.name) && !after.unreadable.includes(field.name);
    const notes: string[] = [];
    if (previous.sensitive !== field.sensitive) notes.push(field.sensitive ? 'now sensitive' : 'no longer sensitive');
    if (fieldKindOf(previous) !== fieldKindOf(field)) notes.push(`now ${fieldKindOf(field) === 'totp' ? 'a one-time code' : 'text'}`);
    // Both sealed and unreadable: whether the value changed cannot be told, so it is not claimed.
    const unknown = before!.unreadable.includes(field.name) && after.unreadable.includes(field.name);
    if (!sameValue && !unknown) changes.push({ what: 'field', field: field.name, change: 'changed', before: valueBefore, after: valueAfter, ...(notes.length ? { note: notes.join(', ') } : {}) });
    else if (notes.length > 0) changes.push({ what: 'field', field: field.name, change: 'changed', note: notes.join(', ') });
  }
  const now = new Set(after.fields.map((f) => f.name));
  for (const field of before?.fields ?? []) {
    if (!now.has(field.name)) changes.push({ what: 'field', field: field.name, change: 'removed', before: shown(before!, field, field.sensitive) });
  }
  return changes;
}

/** A change as one line of text (values quoted as JSON, so a line break or a space shows). */
export function describeChange(change: RecordChange): string {
  const quote = (text: string) => (text === MASK || text === '(sealed)' ? text : JSON.stringify(text));
  switch (change.what) {
    case 'created':
      return 'created';
    case 'deleted':
      return 'deleted';
    case 'restored':
      return change.fromVersion === undefined ? 'restored' : `restored as at version ${change.fromVersion}`;
    case 'name':
      return `name: ${quote(change.before)} -> ${quote(change.after)}`;
    case 'kind':
      return `kind: ${change.before} -> ${change.after}`;
    case 'tags':
      return `tags: ${[...change.added.map((t) => `+${t}`), ...change.removed.map((t) => `-${t}`)].join(' ')}`;
    case 'favourite':
      return change.after ? 'starred' : 'unstarred';
    case 'field': {
      const note = change.note ? ` (${change.note})` : '';
      if (change.change === 'added') return `${change.field}: added ${quote(change.after!)}${note}`;
      if (change.change === 'removed') return `${change.field}: removed (was ${quote(change.before!)})`;
      if (change.before === undefined) return `${change.field}:${note}`;
      return `${change.field}: ${quote(change.before)} -> ${quote(change.after!)}${note}`;
    }
  }
}

/** Each version of a record with what changed from the one before it (oldest first). */
export function historyDiffs<V extends { state: { deletedAt: number | null }; type?: string; fromVersion?: number | undefined }>(
  versions: readonly V[],
  open: (version: V) => OpenedRecord,
  options: { reveal?: boolean } = {},
): Array<{ version: V; changes: RecordChange[] }> {
  let previous: OpenedRecord | undefined;
  return versions.map((version) => {
    const opened = open(version);
    const changes = diffRecords(previous, opened, { reveal: Boolean(options.reveal), deleted: version.state.deletedAt !== null });
    if (version.type === 'RecordRestored') changes.unshift({ what: 'restored', fromVersion: version.fromVersion });
    previous = opened;
    return { version, changes };
  });
}
