import { randomUUID } from 'node:crypto';
import type { VaultCommand } from '../domain/commands.js';
import type { Field, RecordKind } from '../domain/record.js';
import type { Mutation } from '../gen/keeper/v1/vault.js';

/** A domain command as the wire mutation the server decides on (the inverse of the server's parse). */
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
