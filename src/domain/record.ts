import { z } from 'zod';
import { FIELD_KINDS, LIMITS, RECORD_KINDS, SEALED_PREFIX } from './limits.js';
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

export const fieldKindSchema = z.enum(FIELD_KINDS, { message: `must be one of ${FIELD_KINDS.join(', ')}` });

export const fieldSchema = z.object({
  name: fieldNameSchema,
  value: z.string().max(LIMITS.fieldValueMax, `must be at most ${LIMITS.fieldValueMax} characters`),
  sensitive: z.boolean(),
  /** Absent for text (every field written before kinds existed). */
  kind: fieldKindSchema.optional(),
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

/**
 * A one-time-code field holds what an authenticator app is given: an otpauth://totp URI or the
 * bare base32 secret (at least 80 bits, as services hand out). Sealed, it can only be checked by
 * the client that sealed it.
 */
const OTPAUTH_URI = /^otpauth:\/\/totp\/[^\s]*$/i;
const BASE32_SECRET = /^[A-Z2-7]{16,}=*$/;

export function isTotpValue(value: string): boolean {
  return OTPAUTH_URI.test(value) || BASE32_SECRET.test(value);
}

/**
 * A field as a client writes it: text has no kind (as every older field); a one-time-code secret
 * is always sensitive, and as services print it ("jbsw y3dp ehpk 3pxp") is kept in upper case
 * without spaces.
 */
export function normaliseField<F extends { name: string; value: string; sensitive: boolean; kind?: FieldKind | undefined }>(field: F): F {
  if (field.kind === 'text') {
    const { kind: _kind, ...rest } = field;
    return rest as F;
  }
  if (field.kind !== 'totp') return field;
  const value = field.value.trim();
  if (value.startsWith(SEALED_PREFIX) || /^otpauth:/i.test(value)) return { ...field, value, sensitive: true };
  return { ...field, value: value.replace(/[\s-]/g, '').toUpperCase(), sensitive: true };
}

function fieldKindRules(fields: Array<{ name: string; value: string; sensitive: boolean; kind?: string | undefined }>, ctx: z.RefinementCtx): void {
  fields.forEach((field, index) => {
    if (field.kind !== 'totp') return;
    if (!field.sensitive) ctx.addIssue({ code: 'custom', message: `one-time-code field "${field.name}" must be sensitive`, path: [index, 'sensitive'] });
    if (!field.value.startsWith(SEALED_PREFIX) && !isTotpValue(field.value)) {
      ctx.addIssue({ code: 'custom', message: `one-time-code field "${field.name}" must hold an otpauth://totp/ URI or a base32 secret of at least 16 characters`, path: [index, 'value'] });
    }
  });
}

export const tagSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(LIMITS.sealedTagMax, `must be at most ${LIMITS.tagMax} characters`)
  .refine((tag) => tag.startsWith(SEALED_PREFIX) || tag.length <= LIMITS.tagMax, `must be at most ${LIMITS.tagMax} characters`);

function uniqueTags(tags: string[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  tags.forEach((tag, index) => {
    if (seen.has(tag)) ctx.addIssue({ code: 'custom', message: `duplicate tag "${tag}"`, path: [index] });
    seen.add(tag);
  });
}

export const tagListSchema = z.array(tagSchema).max(LIMITS.tagsPerRecordMax, `at most ${LIMITS.tagsPerRecordMax} tags`).superRefine(uniqueTags);

// What a client may send is stricter than what the log holds (see text.ts).
export const inputRecordNameSchema = recordNameSchema.refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);
export const inputFieldNameSchema = fieldNameSchema.refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS);
export const inputFieldListSchema = z
  .array(
    z.object({
      name: inputFieldNameSchema,
      value: fieldSchema.shape.value.refine(hasOnlyLineControlCharacters, ONLY_LINE_CONTROL_CHARACTERS),
      sensitive: z.boolean(),
      kind: fieldKindSchema.optional(),
    }),
  )
  .max(LIMITS.fieldCountMax, `at most ${LIMITS.fieldCountMax} fields`)
  .superRefine(uniqueFieldNames)
  .superRefine(fieldKindRules);
export const inputTagListSchema = z
  .array(tagSchema.refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS))
  .max(LIMITS.tagsPerRecordMax, `at most ${LIMITS.tagsPerRecordMax} tags`)
  .superRefine(uniqueTags);

export type RecordKind = z.infer<typeof recordKindSchema>;
export type Field = z.infer<typeof fieldSchema>;
export type FieldKind = z.infer<typeof fieldKindSchema>;

/** A field's kind, text when it has none. */
export function fieldKindOf(field: { kind?: FieldKind | undefined }): FieldKind {
  return field.kind ?? 'text';
}

export interface VaultRecord {
  id: string;
  kind: RecordKind;
  name: string;
  fields: Field[];
  /** The user's labels, in the order given (sealed one by one when the vault is encrypted). */
  tags: string[];
  /** Starred by the user: listed first. */
  favourite: boolean;
  /** Unix ms of the event that created / last changed the record. */
  createdAt: number;
  updatedAt: number;
  /** Stream version of the event that last changed the record. */
  version: number;
  /** Set on a conflict copy: the record whose concurrent edit this copy keeps. */
  conflictOf?: string | undefined;
}
