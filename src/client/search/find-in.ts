/** Positions tried with a character loop before falling back to indexOf on a slice. */
const NEAR = 64;

/**
 * First position >= from of `query` in text[from, to), or -1. The first NEAR positions are tried
 * with a plain loop (no allocation; the usual case is a match right at `from`), the rest with
 * indexOf on a slice (memchr-fast on long texts, never reading past `to`).
 */
export function findIn(text: string, query: string, from: number, to: number): number {
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
