/** Separates parts (field names and values) inside a haystack; never present in folded text. */
export const SEP = '\u0000';
const NON_ASCII = /[^\u0000-\u007f]/;
// Written as an escape: esbuild keeps a regular expression's characters as they are, and the build is read fastest when ASCII.
const FINAL_SIGMA = /\u03c2/g; // ς, final sigma
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
