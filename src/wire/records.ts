import type { RecordState } from '../domain/decider.js';
import { recordKindSchema, type Field, type VaultRecord } from '../domain/record.js';
import type { Field as WireField, Record as WireRecord } from '../gen/keeper/v1/vault.js';

/** proto3 has no absent string: a text field says so with an empty kind. */
export function fieldsToWire(fields: readonly Field[]): WireField[] {
  return fields.map((field) => ({ name: field.name, value: field.value, sensitive: field.sensitive, kind: field.kind === 'text' ? '' : (field.kind ?? '') }));
}

/**
 * Fields as the domain holds them: an empty kind is left out (text), any other is passed on for
 * the domain's schema to check, so an unknown kind is refused with a sentence, not dropped.
 */
export function fieldsFromWire(fields: readonly WireField[]): Field[] {
  return fields.map((field) =>
    field.kind ? { name: field.name, value: field.value, sensitive: field.sensitive, kind: field.kind as Field['kind'] } : { name: field.name, value: field.value, sensitive: field.sensitive },
  );
}

/** proto3 has no absent string: a record that is not a conflict copy says so with ''. */
export function recordToWire(record: VaultRecord): WireRecord {
  return {
    id: record.id,
    kind: record.kind,
    name: record.name,
    fields: fieldsToWire(record.fields),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
    conflictOf: record.conflictOf ?? '',
    tags: record.tags,
    favourite: record.favourite,
  };
}

/** A listed record as live replica state; its kind is checked, since the replica switches on it. */
export function recordFromWire(record: WireRecord): RecordState {
  const state: RecordState = {
    id: record.id,
    kind: recordKindSchema.parse(record.kind),
    name: record.name,
    fields: fieldsFromWire(record.fields),
    tags: record.tags,
    favourite: record.favourite,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
    deletedAt: null,
  };
  if (record.conflictOf) state.conflictOf = record.conflictOf;
  return state;
}
