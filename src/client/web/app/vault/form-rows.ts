import type { KindTemplate, RecordKind, RecordView } from '../../api/schemas.js';

export interface Row {
  key: number;
  name: string;
  value: string;
  sensitive: boolean;
  /** The user asked to see a sensitive value while typing it. */
  show: boolean;
}

export interface FieldInput {
  name: string;
  value: string;
  sensitive: boolean;
}

let nextKey = 1;

export function row(name = '', value = '', sensitive = false): Row {
  return { key: nextKey++, name, value, sensitive, show: false };
}

export function templateRows(kinds: KindTemplate[], kind: RecordKind): Row[] {
  return (kinds.find((k) => k.kind === kind)?.fields ?? []).map((f) => row(f.name, '', f.sensitive));
}

/** What is wrong with the form, in a sentence, or null. */
export function formProblem(name: string, rows: Row[]): string | null {
  if (name.trim() === '') return 'Give the record a name.';
  const seen = new Set<string>();
  for (const r of rows) {
    const fieldName = r.name.trim();
    if (fieldName === '' && r.value !== '') return 'A field with a value has no name: name it or remove it.';
    if (fieldName === '') continue;
    if (seen.has(fieldName)) return `Two fields are named "${fieldName}": each needs its own name.`;
    seen.add(fieldName);
  }
  return null;
}

/** The fields of a new record: template fields left empty are not saved. */
export function fieldsToCreate(rows: Row[]): FieldInput[] {
  return rows.filter((r) => r.name.trim() !== '' && r.value !== '').map((r) => ({ name: r.name.trim(), value: r.value, sensitive: r.sensitive }));
}

/** An edit sends only what changed, so a change made meanwhile to another field elsewhere is kept. */
export function changeOf(original: RecordView, name: string, kind: RecordKind, rows: Row[]) {
  const before = new Map(original.fields.map((f) => [f.name, f]));
  const kept = rows.filter((r) => r.name.trim() !== '');
  const setFields = kept
    .filter((r) => {
      const was = before.get(r.name.trim());
      return !was || was.value !== r.value || was.sensitive !== r.sensitive;
    })
    .map((r) => ({ name: r.name.trim(), value: r.value, sensitive: r.sensitive }));
  const names = new Set(kept.map((r) => r.name.trim()));
  const removeFields = original.fields.filter((f) => !names.has(f.name)).map((f) => f.name);
  return {
    ...(name.trim() !== original.name ? { name: name.trim() } : {}),
    ...(kind !== original.kind ? { kind } : {}),
    ...(setFields.length > 0 ? { setFields } : {}),
    ...(removeFields.length > 0 ? { removeFields } : {}),
  };
}
