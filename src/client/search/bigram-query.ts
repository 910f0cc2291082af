import { BIGRAM_EXACT, bigramKey } from './keys.js';
import { findIn } from './find-in.js';
import type { Buckets, Segment } from './segment.js';

/**
 * With the index, two code units: the bigram's posting list. An exact (printable ASCII) list is
 * the answer, its "in the name" flag and the name's first two characters give the rank; a hashed
 * one only gives candidates, whose text is searched.
 */
export function collectBigram(segment: Segment, query: string, out: Buckets): void {
  const offsets = segment.offsets!;
  const postings = segment.postings!;
  const q0 = query.charCodeAt(0);
  const q1 = query.charCodeAt(1);
  const key = bigramKey(q0, q1, segment.bigramBase);
  const exact = key < segment.bigramBase + BIGRAM_EXACT;
  const qHead = (q0 << 16) | q1;
  const { dead, head } = segment;
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
      segment.add(out, slot, (v & 1) === 0 ? 2 : head[slot] === qHead ? 0 : 1);
      continue;
    }
    const start = segment.start[slot]!;
    const at = findIn(segment.chunks[segment.chunkOf[slot]!]!, query, start, segment.end[slot]!);
    if (at >= 0) segment.add(out, slot, segment.rankAt(slot, at - start));
  }
}
