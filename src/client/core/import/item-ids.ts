import { createHash } from 'node:crypto';
import { derivedId } from '../../../lib/derived-id.js';
import type { ImportFormat } from './types.js';

/**
 * The record id an imported item gets: derived from the user, the source format and the item's
 * stable id, so importing the same item again finds its record instead of making a second one.
 * Bitwarden and KeePass items carry their own UUIDs (stable across exports of the same vault); a
 * CSV row has none, so its id is the hash of the row's content (see rowId). Keeper's own files
 * keep their record ids as they are.
 */
export function importedRecordId(userId: string, format: ImportFormat, sourceId: string): string {
  return derivedId(`keeper-import/${userId}/${format}/${sourceId}`);
}

/**
 * A CSV row's id: the hash of its cells, with the count of identical rows before it, so two equal
 * rows stay two records and the same file read again gives the same ids. A row changed in the
 * source is a new item.
 */
export function rowIds(): (cells: readonly string[]) => string {
  const seen = new Map<string, number>();
  return (cells) => {
    const hash = createHash('sha256').update(JSON.stringify(cells)).digest('hex').slice(0, 32);
    const count = seen.get(hash) ?? 0;
    seen.set(hash, count + 1);
    return `${hash}/${count}`;
  };
}
