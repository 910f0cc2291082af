import { hasTag, normaliseTags } from '../../domain/tags.js';
import type { OpenedRecord } from '../sync/record-crypto.js';

/** What every face filters a listing by. */
export interface RecordFilter {
  /** Only records carrying this tag (any case); a sealed tag that cannot be read matches nothing. */
  tag?: string | undefined;
  /** Only starred records. */
  favourite?: boolean | undefined;
}

export function matchesFilter(record: OpenedRecord, filter: RecordFilter): boolean {
  if (filter.favourite && !record.favourite) return false;
  if (filter.tag !== undefined && !hasTag(record.tags, filter.tag)) return false;
  return true;
}

export function filterRecords(records: readonly OpenedRecord[], filter: RecordFilter): OpenedRecord[] {
  return records.filter((record) => matchesFilter(record, filter));
}

/** Starred records first, each group in the order given (a stable sort). */
export function favouritesFirst<R extends { favourite: boolean }>(records: readonly R[]): R[] {
  return [...records.filter((r) => r.favourite), ...records.filter((r) => !r.favourite)];
}

/** Tags as a user types them on one line, separated by commas (so a tag may hold a space): "work, home bank". */
export function parseTagText(text: string): string[] {
  return normaliseTags(text.split(','));
}

/** A record's tags as one line, the inverse of parseTagText. */
export function tagText(tags: readonly string[]): string {
  return tags.join(', ');
}

/**
 * A filter box's text as a face reads it: `#tag` words filter by tag (several: all of them), a
 * lone `*` keeps starred records, the rest is searched for as typed.
 */
export function parseFilterText(text: string): { query: string; filter: RecordFilter; tags: string[] } {
  const words = text.split(/\s+/);
  const tags = words.filter((word) => word.length > 1 && word.startsWith('#')).map((word) => word.slice(1));
  const favourite = words.includes('*');
  const query = words.filter((word) => !(word.length > 1 && word.startsWith('#')) && word !== '*').join(' ').trim();
  return { query, tags, filter: { favourite: favourite || undefined, tag: tags[0] } };
}

/** Every tag of the filter on the record (parseFilterText's `tags`), any case. */
export function hasAllTags(record: { tags: readonly string[] }, tags: readonly string[]): boolean {
  return tags.every((tag) => hasTag(record.tags, tag));
}
