import { toVaultEvent, type VaultEvent } from '../../domain/events.js';
import type { Event as WireEvent, Record as WireRecord } from '../../gen/keeper/v1/vault.js';
import type { RecordState } from '../../domain/decider.js';
import { recordKindSchema } from '../../domain/record.js';

/** A pulled event, checked against the domain's schemas before it touches the replica. */
export function eventFromWire(event: WireEvent): VaultEvent {
  return toVaultEvent({
    id: event.id,
    type: event.type,
    version: event.version,
    data: JSON.parse(event.data) as unknown,
    metadata: { mutationId: event.id, recordId: event.recordId, clientId: event.clientId, at: event.at },
  });
}

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
