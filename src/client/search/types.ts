/** What the index needs of a record: its plaintext view. */
export interface SearchableField {
  readonly name: string;
  /** Plaintext value; empty / null / undefined when sealed or not decryptable. */
  readonly value?: string | null | undefined;
}

export interface SearchableRecord {
  readonly id: string;
  readonly name: string;
  readonly fields?: readonly SearchableField[] | null | undefined;
}

export type SearchMatch = 'name' | 'field';

export interface SearchHit {
  id: string;
  matched: SearchMatch;
  /** The (original) name of the first matching field, when `matched` is 'field'. */
  field?: string;
}

export interface SearchResult {
  /** Every matching record, whatever the limit. */
  total: number;
  /** Best first, at most `limit`. */
  hits: SearchHit[];
}

export interface SearchOptions {
  /** Maximum number of hits (non-negative integer or Infinity); default: all. */
  limit?: number;
}

/** Tuning knobs; the defaults suit every client. Tests lower them to exercise each path. */
export interface SearchIndexOptions {
  /** Below this many records the base has no trigram index (scanned instead). Default 2,048. */
  indexThreshold?: number;
  /** Overlay size that triggers a rebuild at the next search. Default max(256, base size / 64). */
  overlayLimit?: number;
  /** log2 of the number of hashed trigram keys (non-ASCII trigrams). 1..24, default 18. */
  hashBits?: number;
}

export interface SearchIndexStats {
  /** Live records. */
  records: number;
  /** Records in the base segment, dead ones included. */
  baseRecords: number;
  /** Dead base slots (removed or superseded), skipped until the next rebuild. */
  tombstones: number;
  /** Records upserted since the last rebuild. */
  overlay: number;
  /** Whether the base has a trigram index. */
  indexed: boolean;
  /** Bytes of the posting lists (varint slot gaps and first-occurrence positions). */
  postingBytes: number;
  /** Bytes of the typed arrays (posting lists, offsets, signatures, flags). */
  indexBytes: number;
  /** Characters of folded text held (names and haystacks, base chunks and overlay). */
  textChars: number;
}
