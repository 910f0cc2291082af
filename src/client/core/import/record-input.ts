import { LIMITS } from '../../../domain/limits.js';
import { isTotpValue, normaliseField, type Field } from '../../../domain/record.js';
import { normaliseTags } from '../../../domain/tags.js';
import type { NewRecord } from '../../sync/sync-engine.js';
import type { ImportItem, Unmapped } from './types.js';

/**
 * An item as the record Keeper keeps: folders and the source's tags become the record's tags, the
 * favourite mark its favourite flag, a one-time-code secret a field of kind totp. What does not
 * fit (a tag too long, too many tags, a secret that is not one) is said in `unmapped`.
 */
export function recordInput(item: ImportItem, unmapped: Unmapped[]): NewRecord {
  const fields: Field[] = item.fields.map((f) => {
    if (!f.totp) return { name: f.name, value: f.value, sensitive: f.sensitive };
    const totp = normaliseField({ name: f.name, value: f.value, sensitive: true, kind: 'totp' as const });
    if (isTotpValue(totp.value)) return totp;
    unmapped.push({ item: item.name, what: `field "${f.name}" is not a one-time-code secret Keeper can use (an otpauth://totp/ URI or base32): kept as a sensitive text field` });
    return { name: f.name, value: f.value, sensitive: true };
  });
  const tags: string[] = [];
  for (const tag of normaliseTags(item.tags)) {
    const kept = tag.length > LIMITS.tagMax ? `${tag.slice(0, LIMITS.tagMax - 1)}…` : tag;
    if (kept !== tag) unmapped.push({ item: item.name, what: `tag "${tag}" is longer than ${LIMITS.tagMax} characters: kept as "${kept}"` });
    if (tags.length >= LIMITS.tagsPerRecordMax) {
      unmapped.push({ item: item.name, what: `tag "${tag}": a record holds at most ${LIMITS.tagsPerRecordMax} tags` });
      continue;
    }
    if (!tags.includes(kept)) tags.push(kept);
  }
  return { kind: item.kind, name: item.name, fields, tags, favourite: item.favourite, ...(item.recordId ? { recordId: item.recordId } : {}) };
}
