import { charBit } from './keys.js';
import { findIn } from './find-in.js';
import type { Buckets, Segment } from './segment.js';

/**
 * Without the index: records whose signature has every character of the query are checked one
 * by one when they are few; otherwise each chunk is scanned with indexOf, jumping to the next
 * record after each match (a match never spans records: the query has no SEP).
 */
export function collectScan(segment: Segment, query: string, out: Buckets): void {
  const n = segment.size;
  const { sig, nameSig, head, dead, found } = segment;
  const code = query.charCodeAt(0);
  if (query.length === 1 && code < 128) {
    // One ASCII character: the signatures answer exactly, no text is read.
    const word = code >>> 5;
    const bit = 1 << (code & 31);
    for (let s = 0; s < n; s++) {
      if ((sig[s * 4 + word]! & bit) === 0 || dead[s] !== 0) continue;
      segment.add(out, s, (nameSig[s * 4 + word]! & bit) === 0 ? 2 : head[s]! >>> 16 === code ? 0 : 1);
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
      const from = segment.start[s]!;
      const at = findIn(segment.chunks[segment.chunkOf[s]!]!, query, from, segment.end[s]!);
      if (at >= 0) segment.add(out, s, segment.rankAt(s, at - from));
    }
    return;
  }
  found.fill(0);
  for (let c = 0; c < segment.chunks.length; c++) {
    const text = segment.chunks[c]!;
    const slots = segment.chunkSlots[c]!;
    let next = 0;
    for (let at = text.indexOf(query); at !== -1; ) {
      // The record holding `at`: the first of this chunk's slots ending after it.
      let s = slots[next]!;
      while (segment.end[s]! <= at) s = slots[++next]!;
      if (dead[s] === 0) found[s] = segment.rankAt(s, at - segment.start[s]!) + 1;
      next++;
      if (next >= slots.length) break;
      at = text.indexOf(query, segment.start[slots[next]!]!);
    }
  }
  for (let s = 0; s < n; s++) {
    const rank = found[s]!;
    if (rank !== 0) {
      found[s] = 0;
      segment.add(out, s, rank - 1);
    }
  }
}
