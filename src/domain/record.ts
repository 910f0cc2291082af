import { z } from 'zod';
import { LIMITS, RECORD_KINDS, SEALED_PREFIX } from './limits.js';
import { hasNoControlCharacters, hasOnlyLineControlCharacters, NO_CONTROL_CHARACTERS, ONLY_LINE_CONTROL_CHARACTERS } from './text.js';

/** UUIDs are compared as text everywhere, so they are kept in one (lower-case) form. */
export const recordIdSchema = z.uuid({ message: 'must be a UUID' }).transform((id) => id.toLowerCase());
export const recordKindSchema = z.enum(RECORD_KINDS, { message: `must be one of ${RECORD_KINDS.join(', ')}` });
export const recordNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(LIMITS.sealedRecordNameMax, `must be at most ${LIMITS.recordNameMax} characters`)
  .refine((name) => name.startsWith(SEALED_PREFIX) || name.length <= LIMITS.recordNameMax, `must be at most ${LIMITS.recordNameMax} characters`);

export const fieldNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(LIMITS.fieldNameMax, `must be at most ${LIMITS.fieldNameMax} characters`);

export const fieldSchema = z.object({
  name: fieldNameSchema,
  value: z.string().max(LIMITS.fieldValueMax, `must be at most ${LIMITS.fieldValueMax} characters`),
  sensitive: z.boolean(),
});

/** Field names are the identity of a field inside a record, so they must be unique. */
function uniqueFieldNames(fields: Array<{ name: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  fields.forEach((field, index) => {
    if (seen.has(field.name)) ctx.addIssue({ code: 'custom', message: `duplicate field name "${field.name}"`, path: [index, 'name'] });
    seen.add(field.name);
  });
}

export const fieldListSchema = z.array(fieldSchema).max(LIMITS.fieldCountMax, `at most ${LIMITS.fieldCountMax} fields`).superRefine(uniqueFieldNames);

// What a client may send is stricter than what the log holds (see text.ts).
export const inputRecordNameSchema = recordNameSchema.refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);
export const inputFieldNameSchema = fieldNameSchema.refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);
export const inputFieldListSchema = z
  .array(
    z.object({
      name: inputFieldNameSchema,
      value: fieldSchema.shape.value.refine(hasOnlyLineControlCharacters, ONLY_LINE_CONTROL_CHARACTERS),
      sensitive: z.boolean(),
    }),
  )
  .max(LIMITS.fieldCountMax, `at most ${LIMITS.fieldCountMax} fields`)
  .superRefine(uniqueFieldNames);

export type RecordKind = z.infer<typeof recordKindSchema>;
export type Field = z.infer<typeof fieldSchema>;

export interface VaultRecord {
  id: string;
  kind: RecordKind;
  name: string;
  fields: Field[];
  /** Unix ms of the event that created / last changed the record. */
  createdAt: number;
  updatedAt: number;
  /** Stream version of the event that last changed the record. */
  version: number;
  /** Set on a conflict copy: the record whose concurrent edit this copy keeps. */
  conflictOf?: string | undefined;
}
