import type { Field, RecordKind } from '../../domain/record.js';

/**
 * Field names and kinds repeat across every record of every user ("user", "password", "login"),
 * and each decoded copy is a string of its own: a process holding a thousand replicas keeps one
 * of each instead. The table is bounded, so a vault of made-up names cannot grow it without end;
 * past the bound a name simply stays the copy it came as.
 */
const MAX_SHARED = 20_000;
const MAX_LENGTH = 64;
const table = new Map<string, string>();

export function shared<T extends string>(text: T): T {
  if (text.length > MAX_LENGTH) return text;
  const known = table.get(text);
  if (known !== undefined) return known as T;
  if (table.size < MAX_SHARED) table.set(text, text);
  return text;
}

/** Fields with their names shared (values are the user's own and stay as they are). */
export function withSharedNames(fields: Field[]): Field[] {
  return fields.map((field) =>
    field.kind === undefined ? { name: shared(field.name), value: field.value, sensitive: field.sensitive } : { name: shared(field.name), value: field.value, sensitive: field.sensitive, kind: field.kind },
  );
}

export function sharedKind(kind: RecordKind): RecordKind {
  return shared(kind);
}
