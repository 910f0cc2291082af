import { randomUUID } from 'node:crypto';
import type { VaultCommand } from '../domain/commands.js';
import type { Field, RecordKind } from '../domain/record.js';
import type { Mutation } from '../gen/keeper/v1/vault.js';
import { fieldsFromWire, fieldsToWire } from './records.js';

/** A domain command as the wire mutation the server decides on. */
export function commandToMutation(command: VaultCommand): Mutation {
  const mutationId = command.mutationId;
  switch (command.type) {
    case 'CreateRecord':
      return {
        mutationId,
        change: {
          $case: 'create',
          value: {
            recordId: command.recordId,
            kind: command.kind,
            name: command.name,
            fields: fieldsToWire(command.fields),
            conflictOf: command.conflictOf ?? '',
            tags: command.tags ?? [],
            favourite: command.favourite ?? false,
          },
        },
      };
    case 'UpdateRecord':
      return {
        mutationId,
        change: {
          $case: 'update',
          value: {
            recordId: command.recordId,
            name: command.name,
            kind: command.kind,
            setFields: fieldsToWire(command.setFields),
            removeFields: command.removeFields,
            tags: command.tags === undefined ? undefined : { tags: command.tags },
            favourite: command.favourite,
          },
        },
      };
    case 'DeleteRecord':
      return { mutationId, change: { $case: 'delete', value: { recordId: command.recordId } } };
    case 'RestoreRecord':
      return {
        mutationId,
        change: {
          $case: 'restore',
          value: {
            recordId: command.recordId,
            kind: command.kind,
            name: command.name,
            fields: fieldsToWire(command.fields),
            fromVersion: command.fromVersion,
            tags: command.tags ?? [],
            favourite: command.favourite ?? false,
          },
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
      const { conflictOf, fields, tags, favourite, ...rest } = change.value;
      return {
        type: 'CreateRecord',
        mutationId: mutation.mutationId,
        ...rest,
        fields: fieldsFromWire(fields),
        conflictOf: conflictOf || undefined,
        // proto3 cannot tell "none" from "not sent": both are left out, as the domain writes them.
        tags: tags.length > 0 ? tags : undefined,
        favourite: favourite || undefined,
      };
    }
    case 'restore': {
      const { fields, tags, favourite, ...rest } = change.value;
      return { type: 'RestoreRecord', mutationId: mutation.mutationId, ...rest, fields: fieldsFromWire(fields), tags: tags.length > 0 ? tags : undefined, favourite: favourite || undefined };
    }
    case 'setVaultKey':
      return {
        type: 'SetVaultKey',
        mutationId: mutation.mutationId,
        keyId: change.value.keyId,
        replacesKeyId: change.value.replacesKeyId || null,
        envelope: change.value.envelope,
      };
    case 'update': {
      const { recordId, name, kind, setFields, removeFields, tags, favourite } = change.value;
      return {
        type: 'UpdateRecord',
        mutationId: mutation.mutationId,
        recordId,
        name,
        kind,
        setFields: fieldsFromWire(setFields),
        removeFields,
        tags: tags?.tags,
        favourite,
      };
    }
    case 'delete':
      return { type: 'DeleteRecord', mutationId: mutation.mutationId, recordId: change.value.recordId };
    default:
      return { type: undefined, mutationId: mutation.mutationId };
  }
}

/** Builders for tests and simple callers; each gets a fresh mutation id unless a retry passes its own. */
export function createMutation(
  record: { recordId?: string; kind: RecordKind; name: string; fields: Field[]; tags?: string[]; favourite?: boolean },
  mutationId: string = randomUUID(),
): Mutation {
  return commandToMutation({
    type: 'CreateRecord',
    mutationId,
    recordId: record.recordId ?? randomUUID(),
    kind: record.kind,
    name: record.name,
    fields: record.fields,
    tags: record.tags,
    favourite: record.favourite,
  });
}

export interface RecordChanges {
  name?: string;
  kind?: RecordKind;
  setFields?: Field[];
  removeFields?: string[];
  tags?: string[];
  favourite?: boolean;
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
    tags: changes.tags,
    favourite: changes.favourite,
  });
}

export function deleteMutation(recordId: string, mutationId: string = randomUUID()): Mutation {
  return commandToMutation({ type: 'DeleteRecord', mutationId, recordId });
}
