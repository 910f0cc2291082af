import { LIMITS } from '../../../domain/limits.js';
import type { ImportField, ImportItem, Unmapped } from './types.js';

// What a client may send refuses control characters in names and all but tab and line breaks in
// values (src/domain/text.ts): a source's stray ones become spaces rather than refusing the item.
const CONTROL = /\p{Cc}/gu;
const CONTROL_BUT_LINE_BREAKS = /(?![\t\n\r])\p{Cc}/gu;

export function cleanName(text: string): string {
  return text.replace(CONTROL, ' ').trim();
}

/**
 * Builds an item's fields as a source lists them, keeping what a record can hold: empty values
 * are left out, names made unique ("url", "url 2"), names and item names cut to their limits,
 * values over the limit and fields past the count limit reported instead of kept.
 */
export class ItemBuilder {
  readonly fields: ImportField[] = [];
  private readonly names = new Set<string>();

  constructor(
    private readonly itemName: string,
    private readonly unmapped: Unmapped[],
  ) {}

  add(name: string, value: string | null | undefined, sensitive = false, totp = false): void {
    if (value === null || value === undefined || value === '') return;
    const clean = value.replace(CONTROL_BUT_LINE_BREAKS, ' ');
    // Room is left for the " 2" that tells a repeated name apart.
    const base = cleanName(name).slice(0, LIMITS.fieldNameMax - 4) || 'field';
    let unique = base;
    for (let n = 2; this.names.has(unique); n++) unique = `${base} ${n}`;
    if (clean.length > LIMITS.fieldValueMax) {
      this.unmapped.push({ item: this.itemName, what: `field "${unique}": its value is longer than ${LIMITS.fieldValueMax} characters` });
      return;
    }
    if (this.fields.length >= LIMITS.fieldCountMax) {
      this.unmapped.push({ item: this.itemName, what: `field "${unique}": a record holds at most ${LIMITS.fieldCountMax} fields` });
      return;
    }
    this.names.add(unique);
    this.fields.push({ name: unique, value: clean, sensitive, ...(totp ? { totp: true } : {}) });
  }
}

/** An item's name as a record can have it: no control characters, not empty, not too long. */
export function itemName(name: string | null | undefined, fallback: string): string {
  const clean = cleanName(name ?? '');
  return (clean || fallback).slice(0, LIMITS.recordNameMax);
}

/** Folder paths and tags, each trimmed, empty ones and repeats dropped. */
export function tagList(...tags: Array<string | null | undefined>): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    const clean = cleanName(tag ?? '');
    if (clean && !out.includes(clean)) out.push(clean);
  }
  return out;
}

export function item(input: Omit<ImportItem, 'tags' | 'favourite'> & Partial<Pick<ImportItem, 'tags' | 'favourite'>>): ImportItem {
  return { tags: [], favourite: false, ...input };
}
