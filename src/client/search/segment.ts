import { SEP } from './fold.js';
import { compareStrings, type Entry } from './entry.js';
import { BIGRAM_EXACT, BIGRAM_HASH_BITS, bigramKey, charBit, EXACT_KEYS, trigramKey, varintLength, writeVarint } from './keys.js';
import { collectScan } from './scan.js';
import { collectBigram } from './bigram-query.js';
import { collectIndexed } from './trigram-query.js';

/**
 * Scratch of an index build. Per key, four int32 side by side (one cache line, not four: the
 * build is bound by random memory accesses): the last slot that had the key, the first and last
 * position of the key in that slot's text, and the list's size (count pass) or write cursor (fill
 * pass; read through `cursors`, an unsigned view of the same memory).
 */
interface IndexWork {
  state: Int32Array;
  cursors: Uint32Array;
  /** The current record's distinct keys and their slot gaps. */
  keys: Int32Array;
  gaps: Int32Array;
}

/** Every record's text is kept below this, so that varints fit 4 bytes and int32 arithmetic. */
const MAX_RECORD_TEXT = 1 << 27;
/** Characters per text chunk (V8 strings may hold up to 2^29 - 24). */
const MAX_CHUNK = 1 << 27;
const NON_LATIN1 = /[^\u0000-\u00ff]/;

/** Matches of a query, by rank: the first `limit` slots of each, in slot order, and the counts. */
export interface Buckets {
  limit: number;
  slots: [number[], number[], number[]];
  counts: [number, number, number];
}

/**
 * The records of the last build, in name order (slot = rank). The folded text of slot s is
 * `key SEP hay SEP` at start[s] in chunks[chunkOf[s]]: every record's text is contiguous, in slot
 * order, Latin-1 records in one-byte chunks and the others in two-byte chunks.
 */
export class Segment {
  readonly size: number;
  readonly ids: string[];
  readonly names: string[];
  readonly fieldNames: Array<readonly string[]>;
  readonly slotOf = new Map<string, number>();
  readonly dead: Uint8Array;
  deadCount = 0;

  readonly chunks: string[] = [];
  /** Slots of each chunk, ascending. */
  readonly chunkSlots: Uint32Array[] = [];
  readonly chunkOf: Uint16Array;
  readonly start: Uint32Array;
  /** Length of the folded name; the haystack starts at start + keyLength + 1. */
  readonly keyLength: Uint32Array;
  /** End of the haystack (exclusive); a SEP follows it. */
  readonly end: Uint32Array;
  /**
   * Characters present in the record's text, and in its folded name: 128 bits per slot (four int32
   * words; Int32Array so that `word & mask` compares equal to a mask). Exact for ASCII.
   */
  readonly sig: Int32Array;
  readonly nameSig: Int32Array;
  /** The first two code units of the folded name, (c0 << 16) | c1 (c1 = 0 for a 1-character name, -1 when empty). */
  readonly head: Int32Array;

  /**
   * Trigram and bigram index (null below the threshold). postings[offsets[key] .. offsets[key + 1])
   * lists the slots having `key`, ascending, as varints (see indexText): the slot gap from the
   * previous one (the first is slot + 1), then for a trigram its first position in the record's text
   * (`key SEP hay`) * 2 + repeated, and if repeated last - first; for a bigram the gap is doubled,
   * plus one when the bigram occurs in the name.
   */
  readonly offsets: Uint32Array | null = null;
  readonly postings: Uint8Array | null = null;
  readonly hashShift: number;
  /** First bigram key. */
  readonly bigramBase: number;
  // Query scratch (indexed segments only): candidates of the posting-list intersection.
  readonly candSlot: Int32Array;
  readonly candLo: Int32Array;
  readonly candHi: Int32Array;
  readonly candS1: Int32Array;
  readonly candS2: Int32Array;
  readonly candState: Uint8Array;
  /** Scan scratch: rank + 1 of each slot found by a chunk scan. */
  readonly found: Uint8Array;

  /** `entries` sorted by compareEntries, ids unique. */
  constructor(entries: readonly Entry[], indexed: boolean, hashBits: number) {
    const n = entries.length;
    if (n >= 1 << 26) throw new RangeError(`search: too many records (${n})`);
    this.size = n;
    this.hashShift = 32 - hashBits;
    this.bigramBase = EXACT_KEYS + 2 ** hashBits;
    this.ids = new Array<string>(n);
    this.names = new Array<string>(n);
    this.fieldNames = new Array<readonly string[]>(n);
    this.dead = new Uint8Array(n);
    this.chunkOf = new Uint16Array(n);
    this.start = new Uint32Array(n);
    this.keyLength = new Uint32Array(n);
    this.end = new Uint32Array(n);
    this.sig = new Int32Array(n * 4);
    this.nameSig = new Int32Array(n * 4);
    this.head = new Int32Array(n);
    this.found = new Uint8Array(n);
    const scratch = indexed ? n : 0;
    this.candSlot = new Int32Array(scratch);
    this.candLo = new Int32Array(scratch);
    this.candHi = new Int32Array(scratch);
    this.candS1 = new Int32Array(scratch);
    this.candS2 = new Int32Array(scratch);
    this.candState = new Uint8Array(scratch);

    // Texts, into chunks: one open chunk per width.
    const open = [
      { parts: [] as string[], slots: [] as number[], length: 0, index: -1 },
      { parts: [] as string[], slots: [] as number[], length: 0, index: -1 },
    ];
    const close = (chunk: (typeof open)[number]) => {
      if (chunk.index < 0) return;
      this.chunks[chunk.index] = chunk.parts.join('');
      this.chunkSlots[chunk.index] = Uint32Array.from(chunk.slots);
      chunk.parts = [];
      chunk.slots = [];
      chunk.length = 0;
      chunk.index = -1;
    };
    for (let s = 0; s < n; s++) {
      const entry = entries[s]!;
      this.ids[s] = entry.id;
      this.names[s] = entry.name;
      this.fieldNames[s] = entry.fieldNames;
      this.slotOf.set(entry.id, s);
      const textLength = entry.key.length + entry.hay.length + 2;
      if (textLength > MAX_RECORD_TEXT) throw new RangeError(`search: record ${entry.id} has too much text (${textLength} characters)`);
      const chunk = open[NON_LATIN1.test(entry.key) || NON_LATIN1.test(entry.hay) ? 1 : 0]!;
      if (chunk.index >= 0 && chunk.length + textLength > MAX_CHUNK) close(chunk);
      if (chunk.index < 0) {
        chunk.index = this.chunks.length;
        this.chunks.push('');
        this.chunkSlots.push(new Uint32Array(0));
      }
      chunk.parts.push(entry.key, SEP, entry.hay, SEP);
      chunk.slots.push(s);
      this.chunkOf[s] = chunk.index;
      this.start[s] = chunk.length;
      this.keyLength[s] = entry.key.length;
      this.end[s] = chunk.length + textLength - 1;
      chunk.length += textLength;
    }
    close(open[0]!);
    close(open[1]!);

    const { sig, nameSig } = this;
    for (let s = 0; s < n; s++) {
      const text = this.chunks[this.chunkOf[s]!]!;
      const at = s * 4;
      const from = this.start[s]!;
      const nameEnd = from + this.keyLength[s]!;
      this.head[s] = nameEnd === from ? -1 : (text.charCodeAt(from) << 16) | (nameEnd - from > 1 ? text.charCodeAt(from + 1) : 0);
      for (let i = from; i < nameEnd; i++) {
        const bit = charBit(text.charCodeAt(i));
        nameSig[at + (bit >>> 5)]! |= 1 << (bit & 31);
      }
      for (let w = 0; w < 4; w++) sig[at + w] = nameSig[at + w]!;
      for (let i = nameEnd, to = this.end[s]!; i < to; i++) {
        const bit = charBit(text.charCodeAt(i));
        sig[at + (bit >>> 5)]! |= 1 << (bit & 31);
      }
    }
    if (!indexed || n === 0) return;

    // Counting sort: sizes of every list (count pass), prefix sums, then the fill pass in slot order.
    const keyCount = this.bigramBase + BIGRAM_EXACT + 2 ** BIGRAM_HASH_BITS;
    const offsets = new Uint32Array(keyCount + 1);
    let longest = 0;
    for (let s = 0; s < n; s++) longest = Math.max(longest, this.end[s]! - this.start[s]!);
    const state = new Int32Array(keyCount * 4);
    const work: IndexWork = { state, cursors: new Uint32Array(state.buffer), keys: new Int32Array(2 * longest), gaps: new Int32Array(2 * longest) };
    for (let key = 0; key < keyCount; key++) state[key * 4] = -1;
    for (let s = 0; s < n; s++) this.indexText(s, work, null);
    for (let key = 0; key < keyCount; key++) {
      const sum = offsets[key]! + work.cursors[key * 4 + 3]!;
      if (sum > 0xffffffff) throw new RangeError('search: the trigram index would exceed 4 GiB');
      offsets[key + 1] = sum;
      work.cursors[key * 4 + 3] = offsets[key]!;
      state[key * 4] = -1;
    }
    const postings = new Uint8Array(offsets[keyCount]!);
    for (let s = 0; s < n; s++) this.indexText(s, work, postings);
    this.offsets = offsets;
    this.postings = postings;
  }

  /**
   * One record's distinct trigrams and bigrams (those without SEP). A trigram posting is three
   * varints: the slot gap, first * 2 + repeated, and when repeated last - first (positions in
   * `key SEP hay`); a bigram posting is one: gap * 2 + (whether it occurs in the name).
   * Count pass (`postings` null): adds each posting's size to the key's size. Fill pass: writes it
   * at the key's cursor and advances that.
   */
  private indexText(slot: number, work: IndexWork, postings: Uint8Array | null): void {
    const text = this.chunks[this.chunkOf[slot]!]!;
    const from = this.start[slot]!;
    const to = this.end[slot]!;
    if (to - from < 2) return;
    const { state, cursors, keys, gaps } = work;
    const shift = this.hashShift;
    const bigrams = this.bigramBase;
    let distinct = 0;
    let a = 0; // 0 (SEP) before the text: no trigram ends at its second character
    let b = text.charCodeAt(from);
    for (let i = from + 1; i < to; i++) {
      const c = text.charCodeAt(i);
      if (b !== 0 && c !== 0) {
        const pair = bigramKey(b, c, bigrams) * 4;
        if (state[pair] !== slot) {
          keys[distinct] = pair;
          gaps[distinct++] = slot - state[pair]!;
          state[pair] = slot;
          state[pair + 1] = i - 1 - from;
        }
        if (a !== 0) {
          const key = trigramKey(a, b, c, shift) * 4;
          const position = i - 2 - from;
          if (state[key] !== slot) {
            keys[distinct] = key;
            gaps[distinct++] = slot - state[key]!;
            state[key] = slot;
            state[key + 1] = position;
          }
          state[key + 2] = position;
        }
      }
      a = b;
      b = c;
    }
    const nameLength = this.keyLength[slot]!;
    const bigramState = bigrams * 4;
    for (let d = 0; d < distinct; d++) {
      const key = keys[d]!;
      const first = state[key + 1]!;
      if (key >= bigramState) {
        const code = gaps[d]! * 2 + (first + 2 <= nameLength ? 1 : 0);
        if (postings === null) cursors[key + 3]! += varintLength(code);
        else cursors[key + 3] = writeVarint(postings, cursors[key + 3]!, code);
        continue;
      }
      const repeat = state[key + 2]! - first;
      const code = first * 2 + (repeat > 0 ? 1 : 0);
      if (postings === null) {
        cursors[key + 3]! += varintLength(gaps[d]!) + varintLength(code) + (repeat > 0 ? varintLength(repeat) : 0);
        continue;
      }
      let at = writeVarint(postings, cursors[key + 3]!, gaps[d]!);
      at = writeVarint(postings, at, code);
      if (repeat > 0) at = writeVarint(postings, at, repeat);
      cursors[key + 3] = at;
    }
  }

  keyAt(slot: number): string {
    const from = this.start[slot]!;
    return this.chunks[this.chunkOf[slot]!]!.slice(from, from + this.keyLength[slot]!);
  }

  hayAt(slot: number): string {
    return this.chunks[this.chunkOf[slot]!]!.slice(this.start[slot]! + this.keyLength[slot]! + 1, this.end[slot]!);
  }

  entryAt(slot: number): Entry {
    return { id: this.ids[slot]!, name: this.names[slot]!, key: this.keyAt(slot), hay: this.hayAt(slot), fieldNames: this.fieldNames[slot]! };
  }

  kill(slot: number): void {
    if (this.dead[slot] === 0) {
      this.dead[slot] = 1;
      this.deadCount++;
    }
  }

  /** compareEntries(base slot, entry). */
  compareTo(slot: number, entry: Entry): number {
    return compareStrings(this.keyAt(slot), entry.key) || compareStrings(this.names[slot]!, entry.name) || compareStrings(this.ids[slot]!, entry.id);
  }

  /** The first rank of a match starting at `at` in the text of `slot`. */
  rankAt(slot: number, at: number): number {
    return at === 0 ? 0 : at < this.keyLength[slot]! ? 1 : 2;
  }

  add(out: Buckets, slot: number, rank: number): void {
    if (out.counts[rank]!++ < out.limit) out.slots[rank]!.push(slot);
  }

  /** Adds the live matches of the non-empty folded `query` to `out`, each rank in name order. */
  collect(query: string, out: Buckets): void {
    if (query.length >= 3 && this.offsets !== null) collectIndexed(this, query, out);
    else if (query.length === 2 && this.offsets !== null) collectBigram(this, query, out);
    else collectScan(this, query, out);
  }

  /** Bytes of the typed arrays. */
  bytes(): number {
    return (
      (this.postings?.byteLength ?? 0) +
      (this.offsets?.byteLength ?? 0) +
      [this.dead, this.chunkOf, this.start, this.keyLength, this.end, this.sig, this.nameSig, this.head, this.found, this.candSlot, this.candLo, this.candHi, this.candS1, this.candS2, this.candState].reduce(
        (sum, array) => sum + array.byteLength,
        0,
      ) +
      this.chunkSlots.reduce((sum, array) => sum + array.byteLength, 0)
    );
  }

  textChars(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }
}
