import type { ListResponse, PullResponse, PushRequest, PushResponse, StatusResponse } from '../../gen/keeper/v1/vault.js';
import { eventFromWire } from '../../wire/events.js';
import { imageFromWire } from '../../wire/images.js';
import { commandToMutation } from '../../wire/mutations.js';
import { recordFromWire } from '../../wire/records.js';
import type { VaultEvent } from '../../domain/events.js';
import type { RecordState } from '../../domain/decider.js';
import { shared, withSharedNames } from './shared-strings.js';
import type { VaultTransport } from './transport.js';

/** The calls of the gRPC client the adapter needs (the per-user client has them, with its token). */
export interface VaultCalls {
  status(): Promise<StatusResponse>;
  list(): Promise<ListResponse>;
  pull(sinceVersion: number, onBatch: (batch: PullResponse) => void): Promise<void>;
  push(request: PushRequest): Promise<PushResponse>;
}

/** The vault transport over a Keeper server's gRPC vault service, through the one wire codec. */
export function grpcVaultTransport(calls: VaultCalls): VaultTransport {
  return {
    async status() {
      const status = await calls.status();
      return { version: status.version, lastModifiedAt: status.lastModifiedAt };
    },
    async list() {
      const snapshot = await calls.list();
      return {
        version: snapshot.version,
        lastModifiedAt: snapshot.lastModifiedAt,
        records: snapshot.records.map((record) => compactRecord(recordFromWire(record))),
        images: snapshot.images.map(imageFromWire),
        vaultKey: snapshot.vaultKey ? { keyId: snapshot.vaultKey.keyId, envelope: snapshot.vaultKey.envelope } : null,
      };
    },
    pull(sinceVersion, onEvents) {
      return calls.pull(sinceVersion, (batch) => onEvents(batch.events.map((event) => compactEvent(eventFromWire(event)))));
    },
    async push(batch) {
      const response = await calls.push({ expectedVersion: batch.expectedVersion, clientId: batch.clientId, mutations: batch.commands.map(commandToMutation) });
      const result = response.result;
      if (result?.$case === 'accepted') return { accepted: true, version: result.value.version, duplicate: result.value.duplicate };
      if (result?.$case === 'conflict') return { accepted: false, currentVersion: result.value.currentVersion };
      throw new Error('the server gave an empty answer to a push');
    },
  };
}

/** What the replica keeps for long shares its field names and kinds with every other replica in the process. */
function compactRecord(record: RecordState): RecordState {
  return { ...record, kind: shared(record.kind), fields: withSharedNames(record.fields) };
}

function compactEvent(event: VaultEvent): VaultEvent {
  switch (event.type) {
    case 'RecordCreated':
      return { ...event, data: { ...event.data, kind: shared(event.data.kind), fields: withSharedNames(event.data.fields) } };
    case 'RecordRestored':
      return { ...event, data: { ...event.data, kind: shared(event.data.kind), fields: withSharedNames(event.data.fields) } };
    case 'RecordUpdated':
      return { ...event, data: { ...event.data, setFields: withSharedNames(event.data.setFields) } };
    default:
      return event;
  }
}
