/** Separates parts (field names and values) inside a haystack; never present in folded text. */
export const SEP = '\u0000';
const NON_ASCII = /[^\u0000-\u007f]/;
const FINAL_SIGMA = /ς/g;
const NUL = /\u0000/g;

/** Case mapping and normalization without the U+0000 substitution (kept for haystacks). */
export function foldRaw(text: string): string {
  const lower = text.toLowerCase();
  if (!NON_ASCII.test(lower)) return lower;
  return lower.toUpperCase().toLowerCase().normalize('NFC').replace(FINAL_SIGMA, 'σ');
}

/**
 * The locale-independent folding applied to both the text and the query (see README.md, Matching).
 * Exported so callers (and tests) can reproduce the matching rule.
 */
export function foldCase(text: string): string {
  const folded = foldRaw(text);
  return folded.includes(SEP) ? folded.replace(NUL, '\uFFFD') : folded;
}
