import type { VaultRecord } from '../../domain/record.js';
import { isSealed } from '../crypto/index.js';
import { SearchIndex, type SearchHit, type SearchableRecord } from '../search/index.js';
import type { OpenedRecord } from './record-crypto.js';

export type ReplicaSearchResult = { total: number; hits: Array<SearchHit & { record: OpenedRecord }> };

/** What a search may look in: sensitive values only when the user asks (someone may be looking over their shoulder). */
export interface ReplicaSearchOptions {
  limit?: number;
  /** Match inside sensitive values too (a card number, a password). Default: names, field names and other values only. */
  includeSensitive?: boolean;
}

/** One index and the records to re-read into it before its next search. */
interface Kept {
  index: SearchIndex;
  stale: Set<string>;
}

/**
 * Search over a replica's plaintext view: built on first use, then kept current record by record
 * (the replica reports which records it touched), and let go of when the replica idles or locks,
 * since it holds decrypted values. Sensitive values are in a second index, built only when a
 * search asks for them.
 */
export class ReplicaSearch {
  private readonly kept = new Map<boolean, Kept>();

  constructor(
    private readonly records: () => VaultRecord[],
    private readonly record: (id: string) => VaultRecord | undefined,
    private readonly open: (record: VaultRecord) => OpenedRecord,
    private readonly unlocked: () => boolean,
  ) {}

  /** A record's view changed: the indexes re-read it before their next search. */
  touched(recordId: string): void {
    for (const kept of this.kept.values()) kept.stale.add(recordId);
  }

  /** Drops the indexes (and every value they took); the next search builds again. */
  forget(): void {
    this.kept.clear();
  }

  search(query: string, options: ReplicaSearchOptions = {}): ReplicaSearchResult {
    const result = this.find(query, options);
    return { total: result.total, hits: result.hits.map((hit) => ({ ...hit, record: this.open(this.record(hit.id)!) })) };
  }

  /** The hits alone, nothing decrypted for them (a caller that shows names only). */
  find(query: string, options: ReplicaSearchOptions = {}): { total: number; hits: SearchHit[] } {
    return this.current(Boolean(options.includeSensitive)).search(query, options.limit === undefined ? {} : { limit: options.limit });
  }

  /**
   * Builds (or brings up to date) the index of names and non-sensitive values now, so that the
   * first search after a replica opens or syncs does not pay for it.
   */
  prepare(): void {
    this.current(false);
  }

  private current(sensitive: boolean): SearchIndex {
    let kept = this.kept.get(sensitive);
    if (!kept) {
      kept = { index: SearchIndex.build(this.records().map((record) => this.searchable(record, sensitive))), stale: new Set() };
      this.kept.set(sensitive, kept);
    }
    // (Only when something changed: clearing a set allocates a new table even when it is empty,
    // and the replica kept it until its next search, long enough to reach the old generation.)
    if (kept.stale.size === 0) return kept.index;
    for (const id of kept.stale) {
      const record = this.record(id);
      if (record) kept.index.upsert(this.searchable(record, sensitive));
      else kept.index.remove(id);
    }
    kept.stale.clear();
    return kept.index;
  }

  /** A record with nothing sealed or sensitive is read as it is: the first search of a fresh replica copies nothing it does not need to. */
  private searchable(record: VaultRecord, sensitive: boolean): SearchableRecord {
    const sealedName = isSealed(record.name);
    if (!sealedName && !record.fields.some((field) => isSealed(field.value) || (field.sensitive && !sensitive))) return record;
    if (this.unlocked()) return openedSearchable(this.open(record), sensitive);
    return {
      id: record.id,
      name: sealedName ? '' : record.name,
      fields: record.fields.map((field) => (isSealed(field.value) || (field.sensitive && !sensitive) ? { name: field.name, value: '' } : field)),
    };
  }
}

/** What search may read: sealed values it cannot open are left out, never indexed as ciphertext; sensitive ones unless asked. */
function openedSearchable(record: OpenedRecord, sensitive: boolean): SearchableRecord {
  const unreadable = new Set(record.unreadable);
  return {
    id: record.id,
    name: unreadable.has('name') ? '' : record.name,
    fields: record.fields.map((field) => ({ name: field.name, value: unreadable.has(field.name) || (field.sensitive && !sensitive) ? '' : field.value })),
  };
}
