import { z } from 'zod';
import { fieldListSchema, fieldNameSchema, recordIdSchema, recordKindSchema, recordNameSchema, tagListSchema } from './record.js';
import { LIMITS } from './limits.js';
import { imageEventDataSchemas, type ImageEventData } from './images.js';

export const recordCreatedSchema = z.object({
  recordId: recordIdSchema,
  kind: recordKindSchema,
  name: recordNameSchema,
  fields: fieldListSchema,
  /** A conflict copy names the record whose concurrent edit it keeps. */
  conflictOf: recordIdSchema.optional(),
  /** Absent when none (and in every event written before tags existed). */
  tags: tagListSchema.optional(),
  /** Absent when not a favourite. */
  favourite: z.boolean().optional(),
});

/** Field-level change: only what changed travels and is stored. */
export const recordUpdatedSchema = z.object({
  recordId: recordIdSchema,
  name: recordNameSchema.optional(),
  kind: recordKindSchema.optional(),
  setFields: fieldListSchema,
  removeFields: z.array(fieldNameSchema).max(LIMITS.fieldCountMax),
  /** The record's whole new tag list, when it changed. */
  tags: tagListSchema.optional(),
  favourite: z.boolean().optional(),
});

export const recordDeletedSchema = z.object({ recordId: recordIdSchema });

/** A record put back as it was at some earlier version (also brings back a deleted record). */
export const recordRestoredSchema = z.object({
  recordId: recordIdSchema,
  kind: recordKindSchema,
  name: recordNameSchema,
  fields: fieldListSchema,
  fromVersion: z.number().int().positive(),
  /** As at fromVersion; absent when it had none (and in restores written before tags existed). */
  tags: tagListSchema.optional(),
  favourite: z.boolean().optional(),
});

/**
 * The user's vault key, wrapped by the secret word on the client. The server keeps it opaque so
 * every client of the user can unlock; `keyId` names the vault key across re-wraps.
 */
export const vaultKeySetSchema = z.object({
  keyId: recordIdSchema,
  envelope: z.string().min(1).max(LIMITS.keyEnvelopeMax, `must be at most ${LIMITS.keyEnvelopeMax} characters`),
});

export const eventDataSchemas = {
  RecordCreated: recordCreatedSchema,
  RecordUpdated: recordUpdatedSchema,
  RecordDeleted: recordDeletedSchema,
  RecordRestored: recordRestoredSchema,
  VaultKeySet: vaultKeySetSchema,
  ...imageEventDataSchemas,
} as const;

export type VaultEventType = keyof typeof eventDataSchemas;
export const VAULT_EVENT_TYPES = Object.keys(eventDataSchemas) as VaultEventType[];

export type VaultEventData =
  | { type: 'RecordCreated'; data: z.infer<typeof recordCreatedSchema> }
  | { type: 'RecordUpdated'; data: z.infer<typeof recordUpdatedSchema> }
  | { type: 'RecordDeleted'; data: z.infer<typeof recordDeletedSchema> }
  | { type: 'RecordRestored'; data: z.infer<typeof recordRestoredSchema> }
  | { type: 'VaultKeySet'; data: z.infer<typeof vaultKeySetSchema> }
  | ImageEventData;

/** Events that change one record's own content, as opposed to the vault key or its images. */
export type RecordEventData = Extract<VaultEventData, { type: 'RecordCreated' | 'RecordUpdated' | 'RecordDeleted' | 'RecordRestored' }>;
export type RecordEvent = RecordEventData & EventEnvelope;
export type ImageEvent = ImageEventData & EventEnvelope;

const RECORD_EVENT_TYPES: ReadonlySet<string> = new Set(['RecordCreated', 'RecordUpdated', 'RecordDeleted', 'RecordRestored']);

export function isRecordEvent<E extends { type: string }>(event: E): event is E & { type: RecordEventData['type'] } {
  return RECORD_EVENT_TYPES.has(event.type);
}

export interface EventMetadata {
  /** The client's mutation id; it is also the event id, which makes retries idempotent. */
  mutationId: string;
  /** Empty for vault-level events (VaultKeySet). */
  recordId: string;
  clientId: string;
  /** Unix ms when the server appended the event. */
  at: number;
}

export interface EventEnvelope {
  id: string;
  version: number;
  metadata: EventMetadata;
}

/** An event as it sits in a user's stream. */
export type VaultEvent = VaultEventData & EventEnvelope;

/** Validates an event read from storage or the wire; throws a ZodError naming what is wrong. */
export function parseEventData(type: string, data: unknown): VaultEventData {
  if (!Object.hasOwn(eventDataSchemas, type)) throw new Error(`unknown event type "${type}"`);
  const schema = eventDataSchemas[type as VaultEventType];
  return { type, data: schema.parse(data) } as VaultEventData;
}

export const eventMetadataSchema = z.object({
  mutationId: z.string(),
  recordId: z.string(),
  clientId: z.string(),
  at: z.number().int().nonnegative(),
});

/** Turns an event as stored or received (untyped data and metadata) into a checked VaultEvent. */
export function toVaultEvent(raw: { id: string; type: string; version: number; data: unknown; metadata: unknown }): VaultEvent {
  return {
    ...parseEventData(raw.type, raw.data),
    id: raw.id,
    version: raw.version,
    metadata: eventMetadataSchema.parse(raw.metadata),
  };
}
