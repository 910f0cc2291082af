import type { RecordState } from '../domain/decider.js';
import { recordKindSchema, type VaultRecord } from '../domain/record.js';
import type { Record as WireRecord } from '../gen/keeper/v1/vault.js';

/** proto3 has no absent string: a record that is not a conflict copy says so with ''. */
export function recordToWire(record: VaultRecord): WireRecord {
  return {
    id: record.id,
    kind: record.kind,
    name: record.name,
    fields: record.fields,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
    conflictOf: record.conflictOf ?? '',
  };
}

/** A listed record as live replica state; its kind is checked, since the replica switches on it. */
export function recordFromWire(record: WireRecord): RecordState {
  const state: RecordState = {
    id: record.id,
    kind: recordKindSchema.parse(record.kind),
    name: record.name,
    fields: record.fields,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
    deletedAt: null,
  };
  if (record.conflictOf) state.conflictOf = record.conflictOf;
  return state;
}
