import { randomUUID } from 'node:crypto';
import type { Field, RecordKind } from '../domain/record.js';
import type { Mutation } from '../gen/keeper/v1/vault.js';

/** Builders for the wire mutations; each gets a fresh mutation id unless a retry passes its own. */
export function createMutation(record: { recordId?: string; kind: RecordKind; name: string; fields: Field[] }, mutationId: string = randomUUID()): Mutation {
  return {
    mutationId,
    change: { $case: 'create', value: { recordId: record.recordId ?? randomUUID(), kind: record.kind, name: record.name, fields: record.fields } },
  };
}

export interface RecordChanges {
  name?: string;
  kind?: RecordKind;
  setFields?: Field[];
  removeFields?: string[];
}

export function updateMutation(recordId: string, changes: RecordChanges, mutationId: string = randomUUID()): Mutation {
  return {
    mutationId,
    change: {
      $case: 'update',
      value: {
        recordId,
        name: changes.name,
        kind: changes.kind,
        setFields: changes.setFields ?? [],
        removeFields: changes.removeFields ?? [],
      },
    },
  };
}

export function deleteMutation(recordId: string, mutationId: string = randomUUID()): Mutation {
  return { mutationId, change: { $case: 'delete', value: { recordId } } };
}
