import type { Field } from '../../../domain/record.js';
import type { NewRecord } from '../../sync/sync-engine.js';
import type { ImportItem } from './types.js';

/**
 * An item as the record Keeper keeps: the one place that decides how tags, the favourite mark and
 * one-time-code secrets are kept. Until records have tags of their own, an item's folders and tags
 * are kept as a "tags" field (one a line) and a favourite as a "favourite" field, so nothing the
 * source said is lost; a one-time-code secret is a sensitive field named "totp".
 */
export function recordInput(item: ImportItem): NewRecord {
  const fields: Field[] = item.fields.map((f) => ({ name: f.name, value: f.value, sensitive: f.sensitive }));
  const taken = new Set(fields.map((f) => f.name));
  const extra = (name: string, value: string) => {
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name} ${n}`;
    taken.add(unique);
    fields.push({ name: unique, value, sensitive: false });
  };
  if (item.tags.length > 0) extra('tags', item.tags.join('\n'));
  if (item.favourite) extra('favourite', 'yes');
  return { kind: item.kind, name: item.name, fields, ...(item.recordId ? { recordId: item.recordId } : {}) };
}
