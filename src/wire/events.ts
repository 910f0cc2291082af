import { toVaultEvent, type VaultEvent } from '../domain/events.js';
import type { Event as WireEvent } from '../gen/keeper/v1/vault.js';

/**
 * An event as the server reads it from its store: metadata is whatever was stored, so every
 * field is read defensively (a vault-level event has no record id).
 */
export interface StoredEventLike {
  id: string;
  type: string;
  version: number;
  data: unknown;
  metadata: Readonly<Record<string, unknown>> | VaultEvent['metadata'];
}

/** The payload travels as JSON so the proto needs no message per event type. */
export function eventToWire(event: StoredEventLike): WireEvent {
  const metadata = event.metadata as Readonly<Record<string, unknown>>;
  return {
    id: event.id,
    type: event.type,
    version: event.version,
    recordId: String(metadata.recordId ?? ''),
    clientId: String(metadata.clientId ?? ''),
    at: Number(metadata.at ?? 0),
    data: JSON.stringify(event.data),
  };
}

/**
 * A pulled event, checked against the domain's schemas before it touches the replica. The event
 * id is the mutation id (that is what makes retries idempotent), so it is not sent twice.
 */
export function eventFromWire(event: WireEvent): VaultEvent {
  return toVaultEvent({
    id: event.id,
    type: event.type,
    version: event.version,
    data: JSON.parse(event.data) as unknown,
    metadata: { mutationId: event.id, recordId: event.recordId, clientId: event.clientId, at: event.at },
  });
}
