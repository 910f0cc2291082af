import { z } from 'zod';
import { fieldListSchema, fieldNameSchema, recordIdSchema, recordKindSchema, recordNameSchema } from './record.js';
import { LIMITS } from './limits.js';

export const recordCreatedSchema = z.object({
  recordId: recordIdSchema,
  kind: recordKindSchema,
  name: recordNameSchema,
  fields: fieldListSchema,
});

/** Field-level change: only what changed travels and is stored. */
export const recordUpdatedSchema = z.object({
  recordId: recordIdSchema,
  name: recordNameSchema.optional(),
  kind: recordKindSchema.optional(),
  setFields: fieldListSchema,
  removeFields: z.array(fieldNameSchema).max(LIMITS.fieldCountMax),
});

export const recordDeletedSchema = z.object({ recordId: recordIdSchema });

export const eventDataSchemas = {
  RecordCreated: recordCreatedSchema,
  RecordUpdated: recordUpdatedSchema,
  RecordDeleted: recordDeletedSchema,
} as const;

export type VaultEventType = keyof typeof eventDataSchemas;
export const VAULT_EVENT_TYPES = Object.keys(eventDataSchemas) as VaultEventType[];

export type VaultEventData =
  | { type: 'RecordCreated'; data: z.infer<typeof recordCreatedSchema> }
  | { type: 'RecordUpdated'; data: z.infer<typeof recordUpdatedSchema> }
  | { type: 'RecordDeleted'; data: z.infer<typeof recordDeletedSchema> };

export interface EventMetadata {
  /** The client's mutation id; it is also the event id, which makes retries idempotent. */
  mutationId: string;
  recordId: string;
  clientId: string;
  /** Unix ms when the server appended the event. */
  at: number;
}

/** An event as it sits in a user's stream. */
export type VaultEvent = VaultEventData & {
  id: string;
  version: number;
  metadata: EventMetadata;
};

/** Validates an event read from storage or the wire; throws a ZodError naming what is wrong. */
export function parseEventData(type: string, data: unknown): VaultEventData {
  const schema = eventDataSchemas[type as VaultEventType];
  if (!schema) throw new Error(`unknown event type "${type}"`);
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
