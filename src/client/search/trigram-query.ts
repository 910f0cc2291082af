import { EXACT_KEYS, trigramKey } from './keys.js';
import { findIn } from './find-in.js';
import type { Buckets, Segment } from './segment.js';

/** Candidate states of the intersection: no exact list yet; starts s1 (< s2) have every exact trigram so far; none has. */
const UNPLACED = 0;
const PLACED = 1;
const UNPROVEN = 2;
const NONE = -0x80000000;

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
export function collectIndexed(segment: Segment, query: string, out: Buckets): void {
  const offsets = segment.offsets!;
  const postings = segment.postings!;
  const length = query.length;
  // Distinct trigram keys of the query with their (first) offset, smallest list first.
  const lists: Array<{ key: number; offset: number; bytes: number }> = [];
  for (let k = 0; k + 3 <= length; k++) {
    const key = trigramKey(query.charCodeAt(k), query.charCodeAt(k + 1), query.charCodeAt(k + 2), segment.hashShift);
    const bytes = offsets[key + 1]! - offsets[key]!;
    if (bytes === 0) return;
    if (!lists.some((list) => list.key === key)) lists.push({ key, offset: k, bytes });
  }
  lists.sort((a, b) => a.bytes - b.bytes || a.offset - b.offset);

  const { candSlot, candLo, candHi, candS1, candS2, candState, dead } = segment;
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
      const keyLength = segment.keyLength[slot]!;
      if (at === lo || lo > keyLength) {
        segment.add(out, slot, segment.rankAt(slot, lo));
        continue;
      }
      if (lo > 0 && at < keyLength) {
        segment.add(out, slot, 1);
        continue;
      }
    }
    const start = segment.start[slot]!;
    const at = findIn(segment.chunks[segment.chunkOf[slot]!]!, query, start + lo, Math.min(segment.end[slot]!, start + candHi[i]! + length));
    if (at >= 0) segment.add(out, slot, segment.rankAt(slot, at - start));
  }
}
