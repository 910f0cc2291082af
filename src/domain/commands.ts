import { z } from 'zod';
import { inputFieldListSchema, inputFieldNameSchema, inputRecordNameSchema, recordIdSchema, recordKindSchema } from './record.js';
import { LIMITS } from './limits.js';
import { hasNoControlCharacters, NO_CONTROL_CHARACTERS } from './text.js';
import { envelopeJsonSchema } from './vault-key-envelope.js';

const mutationId = recordIdSchema;

/** The device or program that made a push, as it names itself (kept with each event). */
export const clientIdSchema = z
  .string()
  .max(LIMITS.clientIdMax, `must be at most ${LIMITS.clientIdMax} characters`)
  .refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);

export const createRecordSchema = z.object({
  type: z.literal('CreateRecord'),
  mutationId,
  recordId: recordIdSchema,
  kind: recordKindSchema,
  name: inputRecordNameSchema,
  fields: inputFieldListSchema,
  conflictOf: recordIdSchema.optional(),
});

export const updateRecordSchema = z
  .object({
    type: z.literal('UpdateRecord'),
    mutationId,
    recordId: recordIdSchema,
    name: inputRecordNameSchema.optional(),
    kind: recordKindSchema.optional(),
    setFields: inputFieldListSchema,
    removeFields: z.array(inputFieldNameSchema).max(LIMITS.fieldCountMax, `at most ${LIMITS.fieldCountMax} names`),
  })
  .refine((c) => c.name !== undefined || c.kind !== undefined || c.setFields.length > 0 || c.removeFields.length > 0, {
    message: 'an update must change something',
  });

export const deleteRecordSchema = z.object({
  type: z.literal('DeleteRecord'),
  mutationId,
  recordId: recordIdSchema,
});

export const restoreRecordSchema = z.object({
  type: z.literal('RestoreRecord'),
  mutationId,
  recordId: recordIdSchema,
  kind: recordKindSchema,
  name: inputRecordNameSchema,
  fields: inputFieldListSchema,
  fromVersion: z.number().int().positive(),
});

/** Turns encryption on (replacesKeyId null) or re-wraps the same key under a new secret word. */
export const setVaultKeySchema = z.object({
  type: z.literal('SetVaultKey'),
  mutationId,
  keyId: recordIdSchema,
  replacesKeyId: recordIdSchema.nullable(),
  envelope: z
    .string()
    .min(1)
    .max(LIMITS.keyEnvelopeMax, `must be at most ${LIMITS.keyEnvelopeMax} characters`)
    .superRefine((text, ctx) => {
      // Every device of the user is handed this envelope: it must be one they can read.
      const checked = envelopeJsonSchema.safeParse(text);
      if (!checked.success) for (const issue of checked.error.issues.slice(0, 3)) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }),
});

export const commandSchema = z.discriminatedUnion('type', [
  createRecordSchema,
  updateRecordSchema,
  deleteRecordSchema,
  restoreRecordSchema,
  setVaultKeySchema,
]);

export type CreateRecord = z.infer<typeof createRecordSchema>;
export type UpdateRecord = z.infer<typeof updateRecordSchema>;
export type DeleteRecord = z.infer<typeof deleteRecordSchema>;
export type RestoreRecord = z.infer<typeof restoreRecordSchema>;
export type SetVaultKey = z.infer<typeof setVaultKeySchema>;
export type RecordCommand = Exclude<VaultCommand, SetVaultKey>;
export type VaultCommand = z.infer<typeof commandSchema>;
