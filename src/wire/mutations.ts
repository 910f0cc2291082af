import { randomUUID } from 'node:crypto';
import type { VaultCommand } from '../domain/commands.js';
import type { Field, RecordKind } from '../domain/record.js';
import type { Mutation } from '../gen/keeper/v1/vault.js';

/** A domain command as the wire mutation the server decides on. */
export function commandToMutation(command: VaultCommand): Mutation {
  const mutationId = command.mutationId;
  switch (command.type) {
    case 'CreateRecord':
      return {
        mutationId,
        change: {
          $case: 'create',
          value: { recordId: command.recordId, kind: command.kind, name: command.name, fields: command.fields, conflictOf: command.conflictOf ?? '' },
        },
      };
    case 'UpdateRecord':
      return {
        mutationId,
        change: {
          $case: 'update',
          value: { recordId: command.recordId, name: command.name, kind: command.kind, setFields: command.setFields, removeFields: command.removeFields },
        },
      };
    case 'DeleteRecord':
      return { mutationId, change: { $case: 'delete', value: { recordId: command.recordId } } };
    case 'RestoreRecord':
      return {
        mutationId,
        change: {
          $case: 'restore',
          value: { recordId: command.recordId, kind: command.kind, name: command.name, fields: command.fields, fromVersion: command.fromVersion },
        },
      };
    case 'SetVaultKey':
      return {
        mutationId,
        change: { $case: 'setVaultKey', value: { keyId: command.keyId, replacesKeyId: command.replacesKeyId ?? '', envelope: command.envelope } },
      };
  }
}

/**
 * The inverse of commandToMutation, before validation: the server parses what this answers with
 * the domain's command schema, so a malformed mutation is refused with a sentence, not mapped.
 */
export function mutationFromWire(mutation: Mutation): unknown {
  const change = mutation.change;
  switch (change?.$case) {
    case 'create': {
      const { conflictOf, ...rest } = change.value;
      return { type: 'CreateRecord', mutationId: mutation.mutationId, ...rest, conflictOf: conflictOf || undefined };
    }
    case 'restore':
      return { type: 'RestoreRecord', mutationId: mutation.mutationId, ...change.value };
    case 'setVaultKey':
      return {
        type: 'SetVaultKey',
        mutationId: mutation.mutationId,
        keyId: change.value.keyId,
        replacesKeyId: change.value.replacesKeyId || null,
        envelope: change.value.envelope,
      };
    case 'update': {
      const { recordId, name, kind, setFields, removeFields } = change.value;
      return { type: 'UpdateRecord', mutationId: mutation.mutationId, recordId, name, kind, setFields, removeFields };
    }
    case 'delete':
      return { type: 'DeleteRecord', mutationId: mutation.mutationId, recordId: change.value.recordId };
    default:
      return { type: undefined, mutationId: mutation.mutationId };
  }
}

/** Builders for tests and simple callers; each gets a fresh mutation id unless a retry passes its own. */
export function createMutation(record: { recordId?: string; kind: RecordKind; name: string; fields: Field[] }, mutationId: string = randomUUID()): Mutation {
  return commandToMutation({ type: 'CreateRecord', mutationId, recordId: record.recordId ?? randomUUID(), kind: record.kind, name: record.name, fields: record.fields });
}

export interface RecordChanges {
  name?: string;
  kind?: RecordKind;
  setFields?: Field[];
  removeFields?: string[];
}

export function updateMutation(recordId: string, changes: RecordChanges, mutationId: string = randomUUID()): Mutation {
  return commandToMutation({
    type: 'UpdateRecord',
    mutationId,
    recordId,
    name: changes.name,
    kind: changes.kind,
    setFields: changes.setFields ?? [],
    removeFields: changes.removeFields ?? [],
  });
}

export function deleteMutation(recordId: string, mutationId: string = randomUUID()): Mutation {
  return commandToMutation({ type: 'DeleteRecord', mutationId, recordId });
}
