import type { VaultRecord } from '../../domain/record.js';
import { isSealed } from '../crypto/index.js';
import { SearchIndex, type SearchHit, type SearchableRecord } from '../search/index.js';
import type { OpenedRecord } from './record-crypto.js';

export type ReplicaSearchResult = { total: number; hits: Array<SearchHit & { record: OpenedRecord }> };

/**
 * Search over a replica's plaintext view: built on first use, then kept current record by record
 * (the replica reports which records it touched), and let go of when the replica idles or locks,
 * since it holds decrypted values.
 */
export class ReplicaSearch {
  private index: SearchIndex | undefined;
  private readonly stale = new Set<string>();

  constructor(
    private readonly records: () => VaultRecord[],
    private readonly record: (id: string) => VaultRecord | undefined,
    private readonly open: (record: VaultRecord) => OpenedRecord,
    private readonly unlocked: () => boolean,
  ) {}

  /** A record's view changed: the index re-reads it before the next search. */
  touched(recordId: string): void {
    if (this.index) this.stale.add(recordId);
  }

  /** Drops the index (and every value it took); the next search builds it again. */
  forget(): void {
    this.index = undefined;
    this.stale.clear();
  }

  search(query: string, options: { limit?: number } = {}): ReplicaSearchResult {
    const result = this.find(query, options);
    return { total: result.total, hits: result.hits.map((hit) => ({ ...hit, record: this.open(this.record(hit.id)!) })) };
  }

  /** The hits alone, nothing decrypted for them (a caller that shows names only). */
  find(query: string, options: { limit?: number } = {}): { total: number; hits: SearchHit[] } {
    if (!this.index) this.index = SearchIndex.build(this.records().map((record) => this.searchable(record)));
    for (const id of this.stale) {
      const record = this.record(id);
      if (record) this.index.upsert(this.searchable(record));
      else this.index.remove(id);
    }
    this.stale.clear();
    return this.index.search(query, options);
  }

  /** A record with nothing sealed is read as it is: the first search of a fresh replica copies nothing it does not need to. */
  private searchable(record: VaultRecord): SearchableRecord {
    const sealedName = isSealed(record.name);
    if (!sealedName && !record.fields.some((field) => isSealed(field.value))) return record;
    if (this.unlocked()) return openedSearchable(this.open(record));
    return { id: record.id, name: sealedName ? '' : record.name, fields: record.fields.map((field) => (isSealed(field.value) ? { name: field.name, value: '' } : field)) };
  }
}

/** What search may read: sealed values it cannot open are left out, never indexed as ciphertext. */
function openedSearchable(record: OpenedRecord): SearchableRecord {
  const unreadable = new Set(record.unreadable);
  return {
    id: record.id,
    name: unreadable.has('name') ? '' : record.name,
    fields: record.fields.map((field) => ({ name: field.name, value: unreadable.has(field.name) ? '' : field.value })),
  };
}
