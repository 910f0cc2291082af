/**
 * In-memory search over the plaintext view of a vault: pure, synchronous, no I/O, shared by every
 * client (CLI, TUI, HTTP agent, bot).
 *
 * ## API
 *
 *   const index = SearchIndex.build(records);          // bulk load (later duplicates of an id win)
 *   index.upsert(record);                               // add or replace one record
 *   index.remove(id);                                   // true when it was there
 *   index.has(id);                                      // whether a live record has that id
 *   index.search('gmail', { limit: 20 });               // { total, hits: [{ id, matched, field? }] }
 *   index.size;                                         // live records
 *   index.compact();                                    // optional: fold pending changes in now
 *   index.stats();                                      // sizes, for diagnostics and benchmarks
 *
 * Callers pass the plaintext view of each record (`SearchableRecord`; a `VaultRecord` is one):
 * the id, the name and the fields' names and values. Values that are sealed or cannot be decrypted
 * are passed as empty, null or omitted. The index keeps its own folded copy of the text (and the
 * original names, to report them), never the caller's objects, so later mutation of those does not
 * matter: call `upsert` again.
 *
 * ## Matching
 *
 * A record matches a query when the folded query is a substring of the folded name, of a folded
 * field name or of a folded field value (each part on its own: a match never spans two parts).
 * Any sequence of characters may be searched, spaces and punctuation included; the query is not
 * trimmed. Folding (`foldCase`) is locale-independent:
 *   - `toLowerCase()` (the Unicode default mapping, never the locale's: no Turkish dotless-i rule);
 *   - for non-ASCII text also full case folding by way of `toUpperCase().toLowerCase()`
 *     ("Straße" ~ "STRASSE" ~ "strasse", "ﬁ" ~ "fi", "ſ" ~ "s", "K" (Kelvin) ~ "k"), then
 *     canonical composition (NFC: "e" + U+0301 ~ "é"), and final sigma "ς" ~ "σ";
 *   - U+0000 folds to U+FFFD (U+0000 separates parts inside the index).
 * Accents are not stripped ("cafe" does not find "café"), and one folded character may become two
 * ("ß" finds the "ss" of "class"): both are properties of case folding, documented here on purpose.
 *
 * ## Ranking
 *
 *   1. name starts with the query          (matched: 'name')
 *   2. name contains it elsewhere          (matched: 'name')
 *   3. a field name or value contains it   (matched: 'field', field: the first such field, in the
 *                                           record's field order, name checked before value)
 * Within a rank: folded name, then original name, then id, each compared by UTF-16 code units
 * (deterministic and locale-independent). The empty query returns every record in that order
 * (matched: 'name'). `total` is always the exact number of matching records; `limit` (a
 * non-negative integer, default: no limit) only caps `hits`.
 *
 * ## Design
 *
 * Base segment (the records of the last build): records in name order (slot = rank in that order,
 * so anything collected in slot order is already sorted within a rank). Each record's folded text
 * `name SEP field SEP value SEP field SEP value ... SEP` (SEP = U+0000) is stored contiguously in a
 * few big chunk strings (one-byte chunks for Latin-1 records, two-byte for the others), in slot
 * order, with per-slot offsets in typed arrays: reading the candidates' text walks memory forwards.
 * Per slot also: a 128-bit character signature of the text and of the name (exact for ASCII) and
 * the name's first two characters.
 *
 * From `indexThreshold` records up, one varint-packed posting list per key, all in one Uint8Array
 * (counting-sort build: a count pass, prefix sums, a fill pass; lists come out in slot order):
 *   - trigram keys (95^3 exact keys for printable ASCII, 2^hashBits hashed ones otherwise):
 *     slot gap, first position * 2 + repeated, [last - first];
 *   - bigram keys (95^2 exact + 2^12 hashed): slot gap * 2 + whether the bigram is in the name.
 * Query paths (on the folded query q):
 *   - 1 ASCII character: the signatures answer exactly (no text read);
 *   - 2 characters: the bigram list (exact for ASCII: no text read);
 *   - 3+: the smallest trigram list, intersected with further lists while decoding is cheaper than
 *     reading text. Each list bounds q's first occurrence from below (first - offset) and its last
 *     from above (last - offset), which drops impossible candidates; exact lists that cover every
 *     character of q and agree on one start prove a match there, and its rank (so the common case,
 *     a phrase present in thousands of records, reads no text); the rest are checked in their text
 *     between the bounds;
 *   - without the trigram index (small vaults): candidates by signature, then their text (one scan
 *     of the chunks, jumping record to record, when most records are candidates).
 *
 * Changes: an overlay (records upserted since the build; scanned linearly, sorted and merged by
 * name at query time) and tombstones (a dead flag per base slot, skipped), so results are always
 * exact. When the overlay outgrows `overlayLimit` (default max(256, N/64)) or more than a quarter of
 * the base is dead, the next `search` (or an explicit `compact()`, e.g. when the client is idle)
 * rebuilds the base from the live records, reusing their folded text and merging the sorted
 * overlay into the base order (no re-folding, no full sort). That rebuild costs about a build; with
 * the default threshold it happens once per N/64 changes, a constant amortized cost per change.
 *
 * Memory (100,000 records of 8 fields, 264 characters each; see `npm run bench search`): about
 * 28 M characters of folded text, 75 MiB of posting lists, 13 MiB of other typed arrays (4.5 MiB of
 * them the fixed key offsets, why small vaults skip the index) plus the ids / names arrays.
 */

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

/** Separates parts (field names and values) inside a haystack; never present in folded text. */
const SEP = '\u0000';
const NON_ASCII = /[^\u0000-\u007f]/;
const FINAL_SIGMA = /ς/g;
const NUL = /\u0000/g;

/** Case mapping and normalization without the U+0000 substitution (kept for haystacks). */
function foldRaw(text: string): string {
  const lower = text.toLowerCase();
  if (!NON_ASCII.test(lower)) return lower;
  return lower.toUpperCase().toLowerCase().normalize('NFC').replace(FINAL_SIGMA, 'σ');
}

/**
 * The locale-independent folding applied to both the text and the query (see the file comment).
 * Exported so callers (and tests) can reproduce the matching rule.
 */
export function foldCase(text: string): string {
  const folded = foldRaw(text);
  return folded.includes(SEP) ? folded.replace(NUL, '\uFFFD') : folded;
}

/** A record as the index keeps it. */
interface Entry {
  readonly id: string;
  readonly name: string;
  /** foldCase(name). */
  readonly key: string;
  /** Folded field names and values joined by SEP: name SEP value SEP name SEP value ... */
  readonly hay: string;
  readonly fieldNames: readonly string[];
}

function toEntry(record: SearchableRecord): Entry {
  if (typeof record?.id !== 'string') throw new TypeError('search: record.id must be a string');
  if (typeof record.name !== 'string') throw new TypeError(`search: record ${record.id} has no name`);
  const fields = record.fields ?? [];
  const fieldNames: string[] = [];
  const parts: string[] = [];
  for (const field of fields) {
    fieldNames.push(field.name);
    parts.push(field.name, field.value ?? '');
  }
  // Folding the joined text equals joining the folded parts (case mapping has no context across
  // U+0000 once final sigma is normalized, and U+0000 never composes), unless a part has a U+0000:
  // then the separators are more than expected, and the parts are folded one by one.
  let hay = foldRaw(parts.join(SEP));
  let separators = 0;
  for (let at = hay.indexOf(SEP); at !== -1; at = hay.indexOf(SEP, at + 1)) separators++;
  if (separators !== Math.max(0, parts.length - 1)) hay = parts.map(foldCase).join(SEP);
  return { id: record.id, name: record.name, key: foldCase(record.name), hay, fieldNames };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareEntries(a: Entry, b: Entry): number {
  return compareStrings(a.key, b.key) || compareStrings(a.name, b.name) || compareStrings(a.id, b.id);
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a.name !== b.name || a.key !== b.key || a.hay !== b.hay || a.fieldNames.length !== b.fieldNames.length) return false;
  return a.fieldNames.every((name, i) => name === b.fieldNames[i]);
}

/** The original name of the field whose name or value holds the first occurrence of `query`. */
function matchedField(hay: string, fieldNames: readonly string[], query: string): string {
  const at = hay.indexOf(query);
  let part = 0;
  for (let sep = hay.indexOf(SEP); sep !== -1 && sep < at; sep = hay.indexOf(SEP, sep + 1)) part++;
  return fieldNames[part >> 1]!;
}

// --- Trigram keys ---------------------------------------------------------------------------

const PRINTABLE = 95; // U+0020..U+007E
/** Printable-ASCII trigrams have a key of their own: their posting list is exact. */
const EXACT_KEYS = PRINTABLE * PRINTABLE * PRINTABLE;

function trigramKey(a: number, b: number, c: number, hashShift: number): number {
  const x = a - 32;
  const y = b - 32;
  const z = c - 32;
  if (x >= 0 && x < PRINTABLE && y >= 0 && y < PRINTABLE && z >= 0 && z < PRINTABLE) return (x * PRINTABLE + y) * PRINTABLE + z;
  let h = Math.imul(a, 0x9e3779b1);
  h = Math.imul(h ^ b, 0x85ebca6b);
  h = Math.imul(h ^ c, 0xc2b2ae35);
  h ^= h >>> 15;
  return EXACT_KEYS + (h >>> hashShift);
}

/** Bigrams have keys after the trigrams': exact for printable ASCII, else hashed into 2^12. */
const BIGRAM_EXACT = PRINTABLE * PRINTABLE;
const BIGRAM_HASH_BITS = 12;

function bigramKey(a: number, b: number, base: number): number {
  const x = a - 32;
  const y = b - 32;
  if (x >= 0 && x < PRINTABLE && y >= 0 && y < PRINTABLE) return base + x * PRINTABLE + y;
  let h = Math.imul(a, 0x9e3779b1);
  h = Math.imul(h ^ b, 0x85ebca6b);
  h ^= h >>> 15;
  return base + BIGRAM_EXACT + (h >>> (32 - BIGRAM_HASH_BITS));
}

/** Bytes of `value` (< 2^28) as a varint: 7 bits a byte, high bit = more. */
function varintLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

/** Writes `value` as a varint at `at`; returns the next position. */
function writeVarint(bytes: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    bytes[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[at++] = value;
  return at;
}

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
/** Candidate states of the intersection: no exact list yet; starts s1 (< s2) have every exact trigram so far; none has. */
const UNPLACED = 0;
const PLACED = 1;
const UNPROVEN = 2;
const NONE = -0x80000000;

// --- Character signatures (128 bits per record) ----------------------------------------------

/** ASCII code units have their own bit; others share the bits of 'A'..'Z' (never in folded text). */
function charBit(code: number): number {
  return code < 128 ? code : 65 + (code % 26);
}

/** Positions tried with a character loop before falling back to indexOf on a slice. */
const NEAR = 64;

/**
 * First position >= from of `query` in text[from, to), or -1. The first NEAR positions are tried
 * with a plain loop (no allocation; the usual case is a match right at `from`), the rest with
 * indexOf on a slice (memchr-fast on long texts, never reading past `to`).
 */
function findIn(text: string, query: string, from: number, to: number): number {
  const length = query.length;
  const last = to - length;
  const near = Math.min(last, from + NEAR);
  const first = query.charCodeAt(0);
  for (let i = from; i <= near; i++) {
    if (text.charCodeAt(i) !== first) continue;
    let same = 1;
    while (same < length && text.charCodeAt(i + same) === query.charCodeAt(same)) same++;
    if (same === length) return i;
  }
  if (near >= last) return -1;
  const at = text.slice(near + 1, to).indexOf(query);
  return at < 0 ? -1 : near + 1 + at;
}

// --- Base segment ------------------------------------------------------------------------------

/** Matches of a query, by rank: the first `limit` slots of each, in slot order, and the counts. */
interface Buckets {
  limit: number;
  slots: [number[], number[], number[]];
  counts: [number, number, number];
}

/**
 * The records of the last build, in name order (slot = rank). The folded text of slot s is
 * `key SEP hay SEP` at start[s] in chunks[chunkOf[s]]: every record's text is contiguous, in slot
 * order, Latin-1 records in one-byte chunks and the others in two-byte chunks.
 */
class Segment {
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
  private readonly candSlot: Int32Array;
  private readonly candLo: Int32Array;
  private readonly candHi: Int32Array;
  private readonly candS1: Int32Array;
  private readonly candS2: Int32Array;
  private readonly candState: Uint8Array;
  /** Scan scratch: rank + 1 of each slot found by a chunk scan. */
  private readonly found: Uint8Array;

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
  private rankAt(slot: number, at: number): number {
    return at === 0 ? 0 : at < this.keyLength[slot]! ? 1 : 2;
  }

  private add(out: Buckets, slot: number, rank: number): void {
    if (out.counts[rank]!++ < out.limit) out.slots[rank]!.push(slot);
  }

  /** Adds the live matches of the non-empty folded `query` to `out`, each rank in name order. */
  collect(query: string, out: Buckets): void {
    if (query.length >= 3 && this.offsets !== null) this.collectIndexed(query, out);
    else if (query.length === 2 && this.offsets !== null) this.collectBigram(query, out);
    else this.collectScan(query, out);
  }

  /**
   * Without the index: records whose signature has every character of the query are checked one
   * by one when they are few; otherwise each chunk is scanned with indexOf, jumping to the next
   * record after each match (a match never spans records: the query has no SEP).
   */
  private collectScan(query: string, out: Buckets): void {
    const n = this.size;
    const { sig, nameSig, head, dead, found } = this;
    const code = query.charCodeAt(0);
    if (query.length === 1 && code < 128) {
      // One ASCII character: the signatures answer exactly, no text is read.
      const word = code >>> 5;
      const bit = 1 << (code & 31);
      for (let s = 0; s < n; s++) {
        if ((sig[s * 4 + word]! & bit) === 0 || dead[s] !== 0) continue;
        this.add(out, s, (nameSig[s * 4 + word]! & bit) === 0 ? 2 : head[s]! >>> 16 === code ? 0 : 1);
      }
      return;
    }
    const mask = new Int32Array(4);
    for (let i = 0; i < query.length; i++) {
      const bit = charBit(query.charCodeAt(i));
      mask[bit >>> 5]! |= 1 << (bit & 31);
    }
    const [m0, m1, m2, m3] = mask as unknown as [number, number, number, number];
    let candidates = 0;
    for (let s = 0; s < n; s++) {
      const at = s * 4;
      if ((sig[at]! & m0) === m0 && (sig[at + 1]! & m1) === m1 && (sig[at + 2]! & m2) === m2 && (sig[at + 3]! & m3) === m3) {
        found[s] = 1;
        candidates++;
      }
    }
    if (candidates * 16 < n) {
      for (let s = 0; s < n; s++) {
        if (found[s] === 0) continue;
        found[s] = 0;
        if (dead[s] !== 0) continue;
        const from = this.start[s]!;
        const at = findIn(this.chunks[this.chunkOf[s]!]!, query, from, this.end[s]!);
        if (at >= 0) this.add(out, s, this.rankAt(s, at - from));
      }
      return;
    }
    found.fill(0);
    for (let c = 0; c < this.chunks.length; c++) {
      const text = this.chunks[c]!;
      const slots = this.chunkSlots[c]!;
      let next = 0;
      for (let at = text.indexOf(query); at !== -1; ) {
        // The record holding `at`: the first of this chunk's slots ending after it.
        let s = slots[next]!;
        while (this.end[s]! <= at) s = slots[++next]!;
        if (dead[s] === 0) found[s] = this.rankAt(s, at - this.start[s]!) + 1;
        next++;
        if (next >= slots.length) break;
        at = text.indexOf(query, this.start[slots[next]!]!);
      }
    }
    for (let s = 0; s < n; s++) {
      const rank = found[s]!;
      if (rank !== 0) {
        found[s] = 0;
        this.add(out, s, rank - 1);
      }
    }
  }

  /**
   * With the index, two code units: the bigram's posting list. An exact (printable ASCII) list is
   * the answer, its "in the name" flag and the name's first two characters give the rank; a hashed
   * one only gives candidates, whose text is searched.
   */
  private collectBigram(query: string, out: Buckets): void {
    const offsets = this.offsets!;
    const postings = this.postings!;
    const q0 = query.charCodeAt(0);
    const q1 = query.charCodeAt(1);
    const key = bigramKey(q0, q1, this.bigramBase);
    const exact = key < this.bigramBase + BIGRAM_EXACT;
    const qHead = (q0 << 16) | q1;
    const { dead, head } = this;
    let slot = -1;
    for (let p = offsets[key]!, stop = offsets[key + 1]!; p < stop; ) {
      let v = postings[p++]!;
      if (v >= 0x80) {
        v &= 0x7f;
        for (let shift = 7; ; shift += 7) {
          const byte = postings[p++]!;
          v |= (byte & 0x7f) << shift;
          if (byte < 0x80) break;
        }
      }
      slot += v >>> 1;
      if (dead[slot] !== 0) continue;
      if (exact) {
        this.add(out, slot, (v & 1) === 0 ? 2 : head[slot] === qHead ? 0 : 1);
        continue;
      }
      const start = this.start[slot]!;
      const at = findIn(this.chunks[this.chunkOf[slot]!]!, query, start, this.end[slot]!);
      if (at >= 0) this.add(out, slot, this.rankAt(slot, at - start));
    }
  }

  /**
   * With the index (query of 3+ code units): candidates = the smallest posting list of the query's
   * trigrams, intersected with the next smallest ones while that is cheaper than reading text.
   * A trigram at query offset k seen first at f and last at l in a record bounds the first
   * occurrence F of the query: F >= f - k, and its last occurrence: <= l - k (also for hashed keys,
   * whose f / l belong to some trigram of that key). So lo = max(f - k) <= F <= hi = min(l - k):
   * hi < lo means no match. Exact lists covering every character of the query and agreeing on a
   * start S (each list's f or l is at S + k) prove a match at S, and F = S when S = lo. Only the
   * records left undecided have their text searched, within [lo, hi + length).
   */
  private collectIndexed(query: string, out: Buckets): void {
    const offsets = this.offsets!;
    const postings = this.postings!;
    const length = query.length;
    // Distinct trigram keys of the query with their (first) offset, smallest list first.
    const lists: Array<{ key: number; offset: number; bytes: number }> = [];
    for (let k = 0; k + 3 <= length; k++) {
      const key = trigramKey(query.charCodeAt(k), query.charCodeAt(k + 1), query.charCodeAt(k + 2), this.hashShift);
      const bytes = offsets[key + 1]! - offsets[key]!;
      if (bytes === 0) return;
      if (!lists.some((list) => list.key === key)) lists.push({ key, offset: k, bytes });
    }
    lists.sort((a, b) => a.bytes - b.bytes || a.offset - b.offset);

    const { candSlot, candLo, candHi, candS1, candS2, candState, dead } = this;
    const covered = new Uint8Array(length);
    let count = 0;
    // Which list next: first the smallest (the best filter); then exact lists covering the most
    // new characters per byte (the proof needs every character covered); then lists shorter than
    // the candidates, which can only filter (an entry takes 2+ bytes). Decoding costs a few ns a
    // byte and reading a candidate's text ~100 ns: a list much longer than that is skipped.
    const used = new Uint8Array(lists.length);
    const next = (): number => {
      let pick = -1;
      let best = 0;
      for (let j = 0; j < lists.length; j++) {
        const { key, offset, bytes } = lists[j]!;
        if (used[j] === 1 || bytes > 64 * count + 4096) continue;
        let fresh = 0;
        if (key < EXACT_KEYS) for (let c = offset; c < offset + 3; c++) fresh += covered[c] === 0 ? 1 : 0;
        const score = fresh > 0 ? fresh / bytes : bytes < 2 * count ? 1e-9 / bytes : 0;
        if (score > best) {
          best = score;
          pick = j;
        }
      }
      return pick;
    };
    for (let l = 0; l < lists.length; l++) {
      const choice = l === 0 ? 0 : next();
      if (choice < 0) break;
      used[choice] = 1;
      const { key, offset } = lists[choice]!;
      const exact = key < EXACT_KEYS;
      if (exact) covered.fill(1, offset, offset + 3);
      let p = offsets[key]!;
      const stop = offsets[key + 1]!;
      let slot = -1;
      let kept = 0;
      let i = 0;
      while (p < stop) {
        // slot gap, first * 2 + repeated, [last - first]
        let v = postings[p++]!;
        if (v >= 0x80) {
          v &= 0x7f;
          for (let shift = 7; ; shift += 7) {
            const byte = postings[p++]!;
            v |= (byte & 0x7f) << shift;
            if (byte < 0x80) break;
          }
        }
        slot += v;
        let code = postings[p++]!;
        if (code >= 0x80) {
          code &= 0x7f;
          for (let shift = 7; ; shift += 7) {
            const byte = postings[p++]!;
            code |= (byte & 0x7f) << shift;
            if (byte < 0x80) break;
          }
        }
        let repeat = 0;
        if ((code & 1) !== 0) {
          repeat = postings[p++]!;
          if (repeat >= 0x80) {
            repeat &= 0x7f;
            for (let shift = 7; ; shift += 7) {
              const byte = postings[p++]!;
              repeat |= (byte & 0x7f) << shift;
              if (byte < 0x80) break;
            }
          }
        }
        const atFirst = (code >>> 1) - offset;
        const atLast = atFirst + repeat;
        let lo: number;
        let hi: number;
        let state: number;
        let s1: number;
        let s2: number;
        if (l === 0) {
          lo = atFirst;
          hi = atLast;
          state = UNPLACED;
          s1 = s2 = NONE;
        } else {
          while (i < count && candSlot[i]! < slot) i++;
          if (i >= count) break;
          if (candSlot[i] !== slot) continue;
          lo = Math.max(candLo[i]!, atFirst);
          hi = Math.min(candHi[i]!, atLast);
          state = candState[i]!;
          s1 = candS1[i]!;
          s2 = candS2[i]!;
          i++;
          if (hi < lo) continue; // cannot occur: dropped
        }
        if (exact) {
          if (state === UNPLACED) {
            state = PLACED;
            s1 = atFirst;
            s2 = repeat > 0 ? atLast : NONE;
          } else if (state === PLACED) {
            // Keep the starts this list also has a trigram for (s1 < s2).
            const keep1 = s1 === atFirst || s1 === atLast;
            const keep2 = s2 !== NONE && (s2 === atFirst || s2 === atLast);
            if (!keep1) {
              s1 = keep2 ? s2 : NONE;
              s2 = NONE;
              if (!keep2) state = UNPROVEN;
            } else if (!keep2) {
              s2 = NONE;
            }
          }
        }
        // Keep the candidate (compacting in place: kept <= i).
        candSlot[kept] = slot;
        candLo[kept] = lo;
        candHi[kept] = hi;
        candState[kept] = state;
        candS1[kept] = s1;
        candS2[kept] = s2;
        kept++;
      }
      count = kept;
      if (count === 0) return;
    }
    const proof = covered.every((c) => c === 1);

    for (let i = 0; i < count; i++) {
      const slot = candSlot[i]!;
      if (dead[slot] !== 0) continue;
      const lo = Math.max(0, candLo[i]!);
      if (proof && candState[i] === PLACED) {
        const at = candS1[i]!; // the query is at `at`, and F is in [lo, at]
        const keyLength = this.keyLength[slot]!;
        if (at === lo || lo > keyLength) {
          this.add(out, slot, this.rankAt(slot, lo));
          continue;
        }
        if (lo > 0 && at < keyLength) {
          this.add(out, slot, 1);
          continue;
        }
      }
      const start = this.start[slot]!;
      const at = findIn(this.chunks[this.chunkOf[slot]!]!, query, start + lo, Math.min(this.end[slot]!, start + candHi[i]! + length));
      if (at >= 0) this.add(out, slot, this.rankAt(slot, at - start));
    }
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

/** Rank of an entry for a non-empty folded query: 0, 1, 2, or -1 for no match. */
function rankOf(entry: Entry, query: string): number {
  const at = entry.key.indexOf(query);
  if (at === 0) return 0;
  if (at > 0) return 1;
  return entry.hay.includes(query) ? 2 : -1;
}

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
