import type { RecordCommand, SetVaultKey } from './commands.js';
import { DomainError } from './errors.js';
import type { RecordEvent, RecordEventData, VaultEventData } from './events.js';
import { LIMITS } from './limits.js';
import type { Field, VaultRecord } from './record.js';

/**
 * The state a decision needs: one record, including a deleted one (kept so it can be restored
 * and so its id is never reused). The user's stream is the consistency boundary; a record is the
 * unit that commands touch.
 */
export interface RecordState extends VaultRecord {
  deletedAt: number | null;
}

/** Which events a command produces against the current state of its record, or why not. */
export function decide(command: RecordCommand, state: RecordState | undefined): RecordEventData {
  switch (command.type) {
    case 'CreateRecord': {
      if (state) throw new DomainError('record_exists', `record ${command.recordId} already exists`);
      const data: Extract<RecordEventData, { type: 'RecordCreated' }>['data'] = {
        recordId: command.recordId,
        kind: command.kind,
        name: command.name,
        fields: command.fields,
      };
      if (command.conflictOf !== undefined) data.conflictOf = command.conflictOf;
      // Left out when empty or false, so a record without them is written as before they existed.
      if (command.tags !== undefined && command.tags.length > 0) data.tags = command.tags;
      if (command.favourite) data.favourite = true;
      requireSize(command.recordId, command.name, command.fields, command.tags);
      return { type: 'RecordCreated', data };
    }
    case 'UpdateRecord': {
      const current = requireLive(state, command.recordId);
      const fields = applyFieldChanges(current.fields, command.setFields, command.removeFields);
      if (fields.length > LIMITS.fieldCountMax) {
        throw new DomainError('limit_exceeded', `record ${command.recordId} would have ${fields.length} fields; at most ${LIMITS.fieldCountMax} are allowed`);
      }
      requireSize(command.recordId, command.name ?? current.name, fields, command.tags ?? current.tags);
      const data: Extract<RecordEventData, { type: 'RecordUpdated' }>['data'] = {
        recordId: command.recordId,
        setFields: command.setFields,
        removeFields: command.removeFields,
      };
      if (command.name !== undefined) data.name = command.name;
      if (command.kind !== undefined) data.kind = command.kind;
      if (command.tags !== undefined) data.tags = command.tags;
      if (command.favourite !== undefined) data.favourite = command.favourite;
      return { type: 'RecordUpdated', data };
    }
    case 'DeleteRecord':
      requireLive(state, command.recordId);
      return { type: 'RecordDeleted', data: { recordId: command.recordId } };
    case 'RestoreRecord': {
      if (!state) throw new DomainError('record_not_found', `record ${command.recordId} does not exist`);
      requireSize(command.recordId, command.name, command.fields, command.tags);
      const data: Extract<RecordEventData, { type: 'RecordRestored' }>['data'] = {
        recordId: command.recordId,
        kind: command.kind,
        name: command.name,
        fields: command.fields,
        fromVersion: command.fromVersion,
      };
      if (command.tags !== undefined && command.tags.length > 0) data.tags = command.tags;
      if (command.favourite) data.favourite = true;
      return { type: 'RecordRestored', data };
    }
  }
}

/**
 * Encryption is turned on once (replacing no key) and afterwards only re-wrapped (same key id),
 * so two clients can never seal the same vault under two different keys.
 */
export function decideVaultKey(command: SetVaultKey, current: { keyId: string } | null): VaultEventData {
  const currentId = current?.keyId ?? null;
  if (command.replacesKeyId !== currentId) {
    throw new DomainError(
      'key_changed',
      currentId === null ? 'the vault is not encrypted yet, so there is no key to replace' : 'the vault key was changed elsewhere: sync and unlock with the current secret word',
    );
  }
  if (currentId !== null && command.keyId !== currentId) {
    throw new DomainError('key_changed', 'an encrypted vault keeps its key: only the secret word that wraps it can change');
  }
  return { type: 'VaultKeySet', data: { keyId: command.keyId, envelope: command.envelope } };
}

/** The record after one event. Events are facts, so evolve never refuses one. */
export function evolve(state: RecordState | undefined, event: RecordEvent): RecordState | undefined {
  const at = event.metadata.at;
  switch (event.type) {
    case 'RecordCreated': {
      const created: RecordState = {
        id: event.data.recordId,
        kind: event.data.kind,
        name: event.data.name,
        fields: event.data.fields,
        tags: event.data.tags ?? [],
        favourite: event.data.favourite ?? false,
        createdAt: at,
        updatedAt: at,
        version: event.version,
        deletedAt: null,
      };
      if (event.data.conflictOf !== undefined) created.conflictOf = event.data.conflictOf;
      return created;
    }
    case 'RecordUpdated':
      if (!state) return state;
      return {
        ...state,
        name: event.data.name ?? state.name,
        kind: event.data.kind ?? state.kind,
        fields: applyFieldChanges(state.fields, event.data.setFields, event.data.removeFields),
        tags: event.data.tags ?? state.tags,
        favourite: event.data.favourite ?? state.favourite,
        updatedAt: at,
        version: event.version,
      };
    case 'RecordDeleted':
      if (!state) return state;
      return { ...state, deletedAt: at, updatedAt: at, version: event.version };
    case 'RecordRestored':
      if (!state) return state;
      return {
        ...state,
        kind: event.data.kind,
        name: event.data.name,
        fields: event.data.fields,
        tags: event.data.tags ?? [],
        favourite: event.data.favourite ?? false,
        updatedAt: at,
        version: event.version,
        deletedAt: null,
      };
  }
}

/** Fields keep their order: a replaced field stays where it was, a new one goes last. */
export function applyFieldChanges(fields: Field[], set: Field[], remove: string[]): Field[] {
  const removed = new Set(remove);
  const next = fields.filter((f) => !removed.has(f.name));
  for (const field of set) {
    const index = next.findIndex((f) => f.name === field.name);
    if (index >= 0) next[index] = field;
    else next.push(field);
  }
  return next;
}

function requireLive(state: RecordState | undefined, recordId: string): RecordState {
  if (!state) throw new DomainError('record_not_found', `record ${recordId} does not exist`);
  if (state.deletedAt !== null) throw new DomainError('record_deleted', `record ${recordId} was deleted`);
  return state;
}

/**
 * A record must fit one gRPC message when it is listed or pulled (LIMITS.recordBytesMax). Most
 * records are far below it even if every character were escaped in JSON, so only those near the
 * limit are measured.
 */
function requireSize(recordId: string, name: string, fields: readonly Field[], tags: readonly string[] = []): void {
  let characters = name.length;
  for (const field of fields) characters += field.name.length + field.value.length;
  for (const tag of tags) characters += tag.length;
  // A UTF-16 unit is at most 6 bytes of JSON (\u0001); each field adds a few dozen bytes of syntax.
  if (characters * 6 + (fields.length + tags.length) * 64 + 64 <= LIMITS.recordBytesMax) return;
  const bytes = utf8Length(JSON.stringify({ name, fields, tags }));
  if (bytes > LIMITS.recordBytesMax) {
    throw new DomainError('limit_exceeded', `record ${recordId} would be ${bytes} bytes; at most ${LIMITS.recordBytesMax} (name and fields as JSON) are allowed`);
  }
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    // A surrogate pair is 4 bytes in UTF-8: 2 for each half.
    else if (unit >= 0xd800 && unit <= 0xdfff) bytes += 2;
    else bytes += 3;
  }
  return bytes;
}
