import type { Field } from '../../domain/record.js';

/**
 * A field set again without a kind keeps the kind it had: the web page and the bot edit a value by
 * name and know nothing of kinds, and a one-time-code secret they change must stay one (and stay
 * sensitive). A kind given, `text` included, is the caller's choice and is kept as given.
 */
export function keepFieldKinds<F extends { name: string; value: string; sensitive: boolean; kind?: Field['kind'] }>(current: ReadonlyArray<Pick<Field, 'name' | 'kind'>>, fields: F[]): F[] {
  return fields.map((field) => {
    if (field.kind !== undefined) return field;
    const kind = current.find((existing) => existing.name === field.name)?.kind;
    return kind === undefined || kind === 'text' ? field : { ...field, kind, sensitive: true };
  });
}
