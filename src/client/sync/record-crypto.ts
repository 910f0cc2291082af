import type { Field, VaultRecord } from '../../domain/record.js';
import { isSealed, openValue, sealValue, type VaultKey } from '../crypto/index.js';

export function sealName(key: VaultKey, recordId: string, name: string): string {
  return sealValue(key, name, { recordId, purpose: 'name' });
}

/**
 * Tags say what a record is about ("bank", "health"), so in an encrypted vault they are sealed
 * like sensitive values, each bound to its record; they read as unreadable while locked.
 */
export function sealTags(key: VaultKey | null, recordId: string, tags: string[]): string[] {
  if (!key) return tags;
  return tags.map((tag) => sealValue(key, tag, { recordId, purpose: 'tag' }));
}

/** Sealed fields only (for edits): values that are sensitive become sealed. */
export function sealFields(key: VaultKey | null, recordId: string, fields: Field[], sealAll = false): Field[] {
  if (!key) return fields;
  return fields.map((field) => (field.sensitive || sealAll ? { ...field, value: sealValue(key, field.value, { recordId, field: field.name }) } : field));
}

export type OpenedRecord = VaultRecord & { sealed: boolean; unreadable: string[] };

/**
 * The plaintext view of a record. Without the key (locked) sealed values stay sealed and are
 * listed in `unreadable`; a value that fails to open (tampered) is reported, never shown.
 */
export function openRecord(key: VaultKey | null, record: VaultRecord): OpenedRecord {
  const unreadable: string[] = [];
  const open = (value: string, context: { recordId: string; field?: string; purpose?: 'field' | 'name' }, label: string) => {
    if (!isSealed(value)) return value;
    if (!key) {
      unreadable.push(label);
      return value;
    }
    try {
      return openValue(key, value, context);
    } catch {
      unreadable.push(label);
      return value;
    }
  };
  const sealed = isSealed(record.name) || record.fields.some((f) => isSealed(f.value)) || record.tags.some((tag) => isSealed(tag));
  // An unreadable tag is left out (a sealed text is no tag to show or filter by) and named once.
  const tags: string[] = [];
  for (const tag of record.tags) {
    if (!isSealed(tag)) tags.push(tag);
    else if (key) {
      try {
        tags.push(openValue(key, tag, { recordId: record.id, purpose: 'tag' }));
      } catch {
        if (!unreadable.includes('tags')) unreadable.push('tags');
      }
    } else if (!unreadable.includes('tags')) unreadable.push('tags');
  }
  return {
    ...record,
    name: open(record.name, { recordId: record.id, purpose: 'name' }, 'name'),
    fields: record.fields.map((field) => ({ ...field, value: open(field.value, { recordId: record.id, field: field.name }, field.name) })),
    tags,
    sealed,
    unreadable,
  };
}

/** Moves sealed content to another record id (a conflict copy): open with the old binding, seal with the new. */
export function resealContent(
  key: VaultKey | null,
  content: { name: string; fields: Field[]; tags: string[] },
  fromId: string,
  toId: string,
): { name: string; fields: Field[]; tags: string[] } {
  if (!key) return content;
  const opened = openRecord(key, { id: fromId, kind: 'custom', name: content.name, fields: content.fields, tags: content.tags, favourite: false, createdAt: 0, updatedAt: 0, version: 0 });
  const sealAll = isSealed(content.name);
  return {
    name: sealAll ? sealName(key, toId, opened.name) : opened.name,
    tags: sealTags(key, toId, opened.tags),
    fields: opened.fields.map((field, index) =>
      isSealed(content.fields[index]!.value) ? { ...field, value: sealValue(key, field.value, { recordId: toId, field: field.name }) } : field,
    ),
  };
}
