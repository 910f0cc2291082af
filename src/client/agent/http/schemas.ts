import { z } from 'zod';
import { FIELD_KINDS } from '../../../domain/limits.js';
import { inputFieldListSchema, inputFieldNameSchema, inputRecordNameSchema, inputTagListSchema, recordKindSchema, tagSchema } from '../../../domain/record.js';
import { FAILURE_KINDS } from '../../core/failures.js';

/** Every body and answer of the agent's API, validated on the way in and shaped on the way out. */

export const credentialsBody = z.object({
  login: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  password: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters'),
  cookie: z.boolean().optional().describe("set the token as the web page's HttpOnly session cookie instead of answering it (only from the agent's own page)"),
});

export const sessionAnswer = z.object({
  token: z.string().optional().describe('the agent token: send it as `Authorization: Bearer <token>` (absent when it was set as the session cookie)'),
  userId: z.string(),
  login: z.string(),
  expiresAt: z.string().describe('when the token ends whatever its use (it also ends after a while unused)'),
});

export const problemAnswer = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  kind: z.enum(FAILURE_KINDS),
  retryAfterSeconds: z.number().int().optional(),
});

export const fieldView = z.object({
  name: z.string(),
  /** null when masked (sensitive, not revealed) or sealed and the vault locked. */
  value: z.string().nullable(),
  sensitive: z.boolean(),
  hidden: z.enum(['masked', 'locked']).nullable().describe('why the value is not shown: masked until ?reveal=1, or sealed while the vault is locked'),
  kind: z.enum(FIELD_KINDS).describe('text, or totp: a one-time-code secret (always sensitive; GET /v1/records/{id}/code gives the current code)'),
});

const tagsView = z.array(z.string()).describe('the record\'s tags (sealed ones are left out while the vault is locked: see tagsLocked)');

export const recordView = z.object({
  id: z.string(),
  kind: recordKindSchema,
  name: z.string().nullable().describe('null when the name is sealed and the vault locked'),
  fields: z.array(fieldView),
  tags: tagsView,
  tagsLocked: z.boolean().describe('the tags are sealed and the vault locked'),
  favourite: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
  conflictOf: z.string().optional(),
  sealed: z.boolean().describe('the record holds values encrypted on the client'),
});

/** A record in a list or a search: what a list shows, no values (a value is read one record at a time). */
export const recordSummary = z.object({
  id: z.string(),
  kind: recordKindSchema,
  name: z.string().nullable().describe('null when the name is sealed and the vault locked'),
  fieldNames: z.array(z.string()),
  tags: tagsView,
  favourite: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
  conflictOf: z.string().optional(),
  sealed: z.boolean(),
});

export const syncView = z.object({
  version: z.number().int(),
  pending: z.number().int().describe('local changes not yet accepted by the server'),
  stale: z.boolean().describe('the last sync did not reach the server: what is shown is as of lastSyncAt'),
  lastSyncAt: z.string().nullable(),
  problem: z.string().nullable(),
});

export const recordAnswer = z.object({ record: recordView, sync: syncView });

export const recordListAnswer = z.object({
  records: z.array(recordSummary),
  total: z.number().int(),
  nextCursor: z.string().nullable().describe('pass as ?cursor= for the next page; null on the last'),
  sync: syncView,
});

export const searchAnswer = z.object({
  hits: z.array(z.object({ record: recordSummary, matched: z.enum(['name', 'field']), field: z.string().optional() })),
  total: z.number().int(),
  sync: syncView,
});

export const listQuery = z.object({
  q: z.string().max(200, 'must be at most 200 characters').optional().describe('search names, field names and readable values, any case'),
  kind: recordKindSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  tag: tagSchema.optional().describe('only records with this tag, any case (sealed tags need the vault unlocked)'),
  favourite: z.enum(['0', '1', 'true', 'false']).optional().describe('1: only starred records'),
});

export const revealQuery = z.object({ reveal: z.enum(['0', '1', 'true', 'false']).optional() });

export const recordParams = z.object({ id: z.uuid({ message: 'must be a record id (a UUID)' }).transform((id) => id.toLowerCase()) });

export const createBody = z.object({
  kind: recordKindSchema,
  name: inputRecordNameSchema,
  fields: inputFieldListSchema.default([]),
  tags: inputTagListSchema.optional(),
  favourite: z.boolean().optional(),
  sealAll: z.boolean().optional().describe('encrypt the name and every value, not only the sensitive ones'),
});

export const changeBody = z
  .object({
    name: inputRecordNameSchema.optional(),
    kind: recordKindSchema.optional(),
    setFields: inputFieldListSchema.optional().describe('fields to add or replace, by name'),
    removeFields: z.array(inputFieldNameSchema).max(200).optional(),
    tags: inputTagListSchema.optional().describe('the whole new tag list'),
    favourite: z.boolean().optional(),
  })
  .refine(
    (body) =>
      body.name !== undefined ||
      body.kind !== undefined ||
      (body.setFields?.length ?? 0) > 0 ||
      (body.removeFields?.length ?? 0) > 0 ||
      body.tags !== undefined ||
      body.favourite !== undefined,
    { message: 'nothing to change: give name, kind, setFields, removeFields, tags or favourite' },
  );

export const restoreBody = z.object({ version: z.number().int().positive() });

export const historyAnswer = z.object({
  versions: z.array(z.object({ version: z.number().int(), at: z.string(), type: z.string(), clientId: z.string(), record: recordView })),
});

export const unlockBody = z.object({ secret: z.string().min(1, 'must not be empty').max(1024) });

export const statusAnswer = z.object({
  server: z.string(),
  userId: z.string(),
  login: z.string(),
  encrypted: z.boolean(),
  unlocked: z.boolean(),
  records: z.number().int(),
  idleLockSeconds: z.number().describe('an unlocked vault unused this long locks itself'),
  sync: syncView,
});

export const syncAnswer = z.object({
  online: z.boolean(),
  pulled: z.number().int(),
  pushed: z.number().int(),
  conflicts: z.number().int(),
  changed: z.array(z.string()),
  sync: syncView,
});
