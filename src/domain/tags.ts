/** Tags compare without regard to case or surrounding space: "Work" and " work" are one tag. */
export function foldTag(tag: string): string {
  return tag.trim().normalize('NFC').toLowerCase();
}

/** A tag list as the user means it: trimmed, empty ones and repeats (any case) dropped, first spelling kept. */
export function normaliseTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim().normalize('NFC');
    if (tag === '' || seen.has(foldTag(tag))) continue;
    seen.add(foldTag(tag));
    out.push(tag);
  }
  return out;
}

/** True when the record's (readable) tags include `tag`, any case. */
export function hasTag(tags: readonly string[], tag: string): boolean {
  const wanted = foldTag(tag);
  return tags.some((t) => foldTag(t) === wanted);
}
