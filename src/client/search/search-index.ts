import { compareEntries, matchedField, rankOf, sameEntry, toEntry, type Entry } from './entry.js';
import { foldCase } from './fold.js';
import { Segment, type Buckets } from './segment.js';
import type { SearchableRecord, SearchHit, SearchIndexOptions, SearchIndexStats, SearchOptions, SearchResult } from './types.js';

/** In-memory search over the plaintext view of a vault; README.md here says how it matches, ranks and is built. */
function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Infinity;
  if (limit === Infinity || (Number.isInteger(limit) && limit >= 0)) return limit;
  throw new RangeError(`search: limit must be a non-negative integer, got ${limit}`);
}

const DEFAULT_INDEX_THRESHOLD = 2048;
const DEFAULT_HASH_BITS = 18;

export class SearchIndex {
  private base: Segment;
  /** Records upserted since the last rebuild (their base slot, if any, is dead). */
  private overlay = new Map<string, Entry>();
  private readonly indexThreshold: number;
  private readonly fixedOverlayLimit: number | undefined;
  private readonly hashBits: number;

  constructor(options: SearchIndexOptions = {}) {
    this.indexThreshold = options.indexThreshold ?? DEFAULT_INDEX_THRESHOLD;
    this.fixedOverlayLimit = options.overlayLimit;
    this.hashBits = options.hashBits ?? DEFAULT_HASH_BITS;
    if (!Number.isInteger(this.hashBits) || this.hashBits < 1 || this.hashBits > 24) {
      throw new RangeError(`search: hashBits must be an integer in 1..24, got ${this.hashBits}`);
    }
    this.base = this.segment([]);
  }

  /** Bulk load: one sort and one index build. A later record with the same id replaces an earlier one. */
  static build(records: Iterable<SearchableRecord>, options: SearchIndexOptions = {}): SearchIndex {
    const index = new SearchIndex(options);
    const byId = new Map<string, Entry>();
    for (const record of records) {
      const entry = toEntry(record);
      byId.set(entry.id, entry);
    }
    index.base = index.segment([...byId.values()].sort(compareEntries));
    return index;
  }

  /** Live records. */
  get size(): number {
    return this.base.size - this.base.deadCount + this.overlay.size;
  }

  has(id: string): boolean {
    if (this.overlay.has(id)) return true;
    const slot = this.base.slotOf.get(id);
    return slot !== undefined && this.base.dead[slot] === 0;
  }

  /** Adds or replaces a record (by id). An unchanged record is a no-op. */
  upsert(record: SearchableRecord): void {
    const entry = toEntry(record);
    const pending = this.overlay.get(entry.id);
    if (pending !== undefined) {
      if (!sameEntry(pending, entry)) this.overlay.set(entry.id, entry);
      return;
    }
    const slot = this.base.slotOf.get(entry.id);
    if (slot !== undefined && this.base.dead[slot] === 0) {
      if (sameEntry(this.base.entryAt(slot), entry)) return;
      this.base.kill(slot);
    }
    this.overlay.set(entry.id, entry);
  }

  /** Removes a record; false when there was none with that id. */
  remove(id: string): boolean {
    if (this.overlay.delete(id)) return true; // its base slot, if any, is already dead
    const slot = this.base.slotOf.get(id);
    if (slot === undefined || this.base.dead[slot] !== 0) return false;
    this.base.kill(slot);
    return true;
  }

  search(query: string, options: SearchOptions = {}): SearchResult {
    const limit = checkLimit(options.limit);
    if (this.needsCompaction()) this.compact();
    const folded = foldCase(query);
    const { base } = this;

    // Overlay matches, by rank, sorted by name.
    const pending: [Entry[], Entry[], Entry[]] = [[], [], []];
    for (const entry of this.overlay.values()) {
      const rank = folded === '' ? 0 : rankOf(entry, folded);
      if (rank >= 0) pending[rank]!.push(entry);
    }
    for (const list of pending) list.sort(compareEntries);

    const buckets: Buckets = { limit, slots: [[], [], []], counts: [0, 0, 0] };
    if (folded === '') {
      // Every live record, in name order.
      const slots = buckets.slots[0];
      for (let slot = 0; slot < base.size && slots.length < limit; slot++) if (base.dead[slot] === 0) slots.push(slot);
      buckets.counts[0] = base.size - base.deadCount;
    } else {
      base.collect(folded, buckets);
    }

    const total = buckets.counts[0] + buckets.counts[1] + buckets.counts[2] + pending[0].length + pending[1].length + pending[2].length;
    const hits: SearchHit[] = [];
    for (let rank = 0; rank < 3 && hits.length < limit; rank++) {
      const slots = buckets.slots[rank]!;
      const entries = pending[rank]!;
      let i = 0;
      let j = 0;
      while (hits.length < limit && (i < slots.length || j < entries.length)) {
        if (j >= entries.length || (i < slots.length && base.compareTo(slots[i]!, entries[j]!) < 0)) {
          const slot = slots[i++]!;
          hits.push(
            rank < 2
              ? { id: base.ids[slot]!, matched: 'name' }
              : { id: base.ids[slot]!, matched: 'field', field: matchedField(base.hayAt(slot), base.fieldNames[slot]!, folded) },
          );
        } else {
          const entry = entries[j++]!;
          hits.push(
            rank < 2 ? { id: entry.id, matched: 'name' } : { id: entry.id, matched: 'field', field: matchedField(entry.hay, entry.fieldNames, folded) },
          );
        }
      }
    }
    return { total, hits };
  }

  /**
   * Rebuilds the base from the live records now (search does it lazily when the overlay or the
   * tombstones grow too large). Reuses the folded text; merges the sorted overlay into the base order.
   */
  compact(): void {
    if (this.overlay.size === 0 && this.base.deadCount === 0) return;
    const { base } = this;
    const added = [...this.overlay.values()].sort(compareEntries);
    const merged: Entry[] = new Array<Entry>(this.size);
    let out = 0;
    let j = 0;
    for (let slot = 0; slot < base.size; slot++) {
      if (base.dead[slot] !== 0) continue;
      while (j < added.length && base.compareTo(slot, added[j]!) > 0) merged[out++] = added[j++]!;
      merged[out++] = base.entryAt(slot);
    }
    while (j < added.length) merged[out++] = added[j++]!;
    this.overlay = new Map();
    this.base = this.segment(merged);
  }

  stats(): SearchIndexStats {
    const { base } = this;
    let textChars = base.textChars();
    for (const entry of this.overlay.values()) textChars += entry.key.length + entry.hay.length;
    return {
      records: this.size,
      baseRecords: base.size,
      tombstones: base.deadCount,
      overlay: this.overlay.size,
      indexed: base.postings !== null,
      postingBytes: base.postings?.length ?? 0,
      indexBytes: base.bytes(),
      textChars,
    };
  }

  private overlayLimit(): number {
    return this.fixedOverlayLimit ?? Math.max(256, Math.ceil(this.base.size / 64));
  }

  private needsCompaction(): boolean {
    return this.overlay.size > this.overlayLimit() || this.base.deadCount > Math.max(this.overlayLimit(), this.base.size / 4);
  }

  private segment(entries: readonly Entry[]): Segment {
    return new Segment(entries, entries.length >= this.indexThreshold, this.hashBits);
  }
}
