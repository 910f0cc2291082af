/** Trigram, bigram and character-signature keys, and the varints the posting lists are made of. */

export const PRINTABLE = 95; // U+0020..U+007E
/** Printable-ASCII trigrams have a key of their own: their posting list is exact. */
export const EXACT_KEYS = PRINTABLE * PRINTABLE * PRINTABLE;

export function trigramKey(a: number, b: number, c: number, hashShift: number): number {
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
export const BIGRAM_EXACT = PRINTABLE * PRINTABLE;
export const BIGRAM_HASH_BITS = 12;

export function bigramKey(a: number, b: number, base: number): number {
  const x = a - 32;
  const y = b - 32;
  if (x >= 0 && x < PRINTABLE && y >= 0 && y < PRINTABLE) return base + x * PRINTABLE + y;
  let h = Math.imul(a, 0x9e3779b1);
  h = Math.imul(h ^ b, 0x85ebca6b);
  h ^= h >>> 15;
  return base + BIGRAM_EXACT + (h >>> (32 - BIGRAM_HASH_BITS));
}

/** Bytes of `value` (< 2^28) as a varint: 7 bits a byte, high bit = more. */
export function varintLength(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

/** Writes `value` as a varint at `at`; returns the next position. */
export function writeVarint(bytes: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    bytes[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[at++] = value;
  return at;
}

/** ASCII code units have their own bit; others share the bits of 'A'..'Z' (never in folded text). */
export function charBit(code: number): number {
  return code < 128 ? code : 65 + (code % 26);
}
