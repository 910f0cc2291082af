import { z } from 'zod';
import {
  fieldListSchema,
  fieldNameSchema,
  inputFieldListSchema,
  inputFieldNameSchema,
  inputRecordNameSchema,
  inputTagListSchema,
  recordIdSchema,
  recordKindSchema,
  recordNameSchema,
  tagListSchema,
  type Field,
} from './record.js';
import { LIMITS } from './limits.js';
import { hasNoControlCharacters, NO_CONTROL_CHARACTERS } from './text.js';
import { envelopeJsonSchema } from './vault-key-envelope.js';

const mutationId = recordIdSchema;

/** The device or program that made a push, as it names itself (kept with each event). */
export const clientIdSchema = z
  .string()
  .max(LIMITS.clientIdMax, `must be at most ${LIMITS.clientIdMax} characters`)
  .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);

/** The text rules a command is checked with: what clients send now, or what they kept before. */
interface TextRules {
  name: z.ZodType<string>;
  fieldName: z.ZodType<string>;
  fields: z.ZodType<Field[]>;
  tags: z.ZodType<string[]>;
  envelope: z.ZodType<string>;
}

function commandSchemas(text: TextRules) {
  const create = z.object({
    type: z.literal('CreateRecord'),
    mutationId,
    recordId: recordIdSchema,
    kind: recordKindSchema,
    name: text.name,
    fields: text.fields,
    conflictOf: recordIdSchema.optional(),
    tags: text.tags.optional(),
    favourite: z.boolean().optional(),
  });
  const update = z
    .object({
      type: z.literal('UpdateRecord'),
      mutationId,
      recordId: recordIdSchema,
      name: text.name.optional(),
      kind: recordKindSchema.optional(),
      setFields: text.fields,
      removeFields: z.array(text.fieldName).max(LIMITS.fieldCountMax, `at most ${LIMITS.fieldCountMax} names`),
      /** Replaces the whole tag list. */
      tags: text.tags.optional(),
      favourite: z.boolean().optional(),
    })
    .refine((c) => c.name !== undefined || c.kind !== undefined || c.setFields.length > 0 || c.removeFields.length > 0 || c.tags !== undefined || c.favourite !== undefined, {
      message: 'an update must change something',
    });
  const remove = z.object({
    type: z.literal('DeleteRecord'),
    mutationId,
    recordId: recordIdSchema,
  });
  const restore = z.object({
    type: z.literal('RestoreRecord'),
    mutationId,
    recordId: recordIdSchema,
    kind: recordKindSchema,
    name: text.name,
    fields: text.fields,
    fromVersion: z.number().int().positive(),
    tags: text.tags.optional(),
    favourite: z.boolean().optional(),
  });
  /** Turns encryption on (replacesKeyId null) or re-wraps the same key under a new secret word. */
  const setVaultKey = z.object({
    type: z.literal('SetVaultKey'),
    mutationId,
    keyId: recordIdSchema,
    replacesKeyId: recordIdSchema.nullable(),
    envelope: text.envelope,
  });
  return { create, update, remove, restore, setVaultKey, command: z.discriminatedUnion('type', [create, update, remove, restore, setVaultKey]) };
}

const envelopeText = z.string().min(1).max(LIMITS.keyEnvelopeMax, `must be at most ${LIMITS.keyEnvelopeMax} characters`);

const strict = commandSchemas({
  name: inputRecordNameSchema,
  fieldName: inputFieldNameSchema,
  fields: inputFieldListSchema,
  tags: inputTagListSchema,
  envelope: envelopeText.superRefine((text, ctx) => {
    // Every device of the user is handed this envelope: it must be one they can read.
    const checked = envelopeJsonSchema.safeParse(text);
    if (!checked.success) for (const issue of checked.error.issues.slice(0, 3)) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }),
});

export const createRecordSchema = strict.create;
export const updateRecordSchema = strict.update;
export const deleteRecordSchema = strict.remove;
export const restoreRecordSchema = strict.restore;
export const setVaultKeySchema = strict.setVaultKey;
/** A command as a client sends it now. */
export const commandSchema = strict.command;

/**
 * A command as a client may have kept it unsent (its local cache) under the looser rules before
 * the current ones: it must still load, so that the pending change is pushed and the server names
 * what it refuses, instead of the cache being set aside with the change in it.
 */
export const storedCommandSchema = commandSchemas({
  name: recordNameSchema,
  fieldName: fieldNameSchema,
  fields: fieldListSchema,
  tags: tagListSchema,
  envelope: envelopeText,
}).command;

export type CreateRecord = z.infer<typeof createRecordSchema>;
export type UpdateRecord = z.infer<typeof updateRecordSchema>;
export type DeleteRecord = z.infer<typeof deleteRecordSchema>;
export type RestoreRecord = z.infer<typeof restoreRecordSchema>;
export type SetVaultKey = z.infer<typeof setVaultKeySchema>;
export type RecordCommand = Exclude<VaultCommand, SetVaultKey>;
export type VaultCommand = z.infer<typeof commandSchema>;
