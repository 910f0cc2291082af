import { foldCase, foldRaw, SEP } from './fold.js';
import type { SearchableRecord } from './types.js';

/** A record as the index keeps it. */
export interface Entry {
  readonly id: string;
  readonly name: string;
  /** foldCase(name). */
  readonly key: string;
  /** Folded field names and values joined by SEP: name SEP value SEP name SEP value ... */
  readonly hay: string;
  readonly fieldNames: readonly string[];
}

export function toEntry(record: SearchableRecord): Entry {
  if (typeof record?.id !== 'string') throw new TypeError('search: record.id must be a string');
  if (typeof record.name !== 'string') throw new TypeError(`search: record ${record.id} has no name`);
  const fields = record.fields ?? [];
  const fieldNames: string[] = [];
  const parts: string[] = [];
  for (const field of fields) {
    fieldNames.push(field.name);
    parts.push(field.name, field.value ?? '');
  }
  // Folding the joined text equals joining the folded parts (case mapping has no context across
  // U+0000 once final sigma is normalized, and U+0000 never composes), unless a part has a U+0000:
  // then the separators are more than expected, and the parts are folded one by one.
  let hay = foldRaw(parts.join(SEP));
  let separators = 0;
  for (let at = hay.indexOf(SEP); at !== -1; at = hay.indexOf(SEP, at + 1)) separators++;
  if (separators !== Math.max(0, parts.length - 1)) hay = parts.map(foldCase).join(SEP);
  return { id: record.id, name: record.name, key: foldCase(record.name), hay, fieldNames };
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareEntries(a: Entry, b: Entry): number {
  return compareStrings(a.key, b.key) || compareStrings(a.name, b.name) || compareStrings(a.id, b.id);
}

export function sameEntry(a: Entry, b: Entry): boolean {
  if (a.name !== b.name || a.key !== b.key || a.hay !== b.hay || a.fieldNames.length !== b.fieldNames.length) return false;
  return a.fieldNames.every((name, i) => name === b.fieldNames[i]);
}

/** The original name of the field whose name or value holds the first occurrence of `query`. */
export function matchedField(hay: string, fieldNames: readonly string[], query: string): string {
  const at = hay.indexOf(query);
  let part = 0;
  for (let sep = hay.indexOf(SEP); sep !== -1 && sep < at; sep = hay.indexOf(SEP, sep + 1)) part++;
  return fieldNames[part >> 1]!;
}

/** Rank of an entry for a non-empty folded query: 0, 1, 2, or -1 for no match. */
export function rankOf(entry: Entry, query: string): number {
  const at = entry.key.indexOf(query);
  if (at === 0) return 0;
  if (at > 0) return 1;
  return entry.hay.includes(query) ? 2 : -1;
}
