import * as z from 'zod/mini';

/**
 * The agent's answers as this page reads them, checked on arrival: a page and an agent of
 * different versions fail with a sentence instead of drawing half a record.
 */

export const syncView = z.object({
  version: z.number(),
  pending: z.number(),
  stale: z.boolean(),
  lastSyncAt: z.nullable(z.string()),
  problem: z.nullable(z.string()),
});

const kind = z.enum(['login', 'card', 'note', 'custom']);

export const fieldView = z.object({
  name: z.string(),
  value: z.nullable(z.string()),
  sensitive: z.boolean(),
  hidden: z.nullable(z.enum(['masked', 'locked'])),
});

export const recordView = z.object({
  id: z.string(),
  kind,
  name: z.nullable(z.string()),
  fields: z.array(fieldView),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number(),
  conflictOf: z.optional(z.string()),
  sealed: z.boolean(),
});

export const recordSummary = z.object({
  id: z.string(),
  kind,
  name: z.nullable(z.string()),
  fieldNames: z.array(z.string()),
  updatedAt: z.string(),
  version: z.number(),
  conflictOf: z.optional(z.string()),
  sealed: z.boolean(),
});

export const recordAnswer = z.object({ record: recordView, sync: syncView });

export const listAnswer = z.object({ records: z.array(recordSummary), total: z.number(), nextCursor: z.nullable(z.string()), sync: syncView });

export const searchAnswer = z.object({
  hits: z.array(z.object({ record: recordSummary, matched: z.enum(['name', 'field']), field: z.optional(z.string()) })),
  total: z.number(),
  sync: syncView,
});

export const historyAnswer = z.object({
  versions: z.array(z.object({ version: z.number(), at: z.string(), type: z.string(), clientId: z.string(), record: recordView })),
});

export const statusAnswer = z.object({
  server: z.string(),
  userId: z.string(),
  login: z.string(),
  encrypted: z.boolean(),
  unlocked: z.boolean(),
  records: z.number(),
  idleLockSeconds: z.number(),
  sync: syncView,
});

export const syncAnswer = z.object({ online: z.boolean(), pulled: z.number(), pushed: z.number(), conflicts: z.number(), sync: syncView });

export const sessionAnswer = z.object({ userId: z.string(), login: z.string() });

export const kindsAnswer = z.object({ kinds: z.array(z.object({ kind, fields: z.array(z.object({ name: z.string(), sensitive: z.boolean() })) })) });

export const imageView = z.object({
  id: z.string(),
  recordId: z.string(),
  fileName: z.nullable(z.string()),
  type: z.string(),
  size: z.number(),
  width: z.number(),
  height: z.number(),
  status: z.enum(['processing', 'ready', 'failed']),
  failure: z.nullable(z.string()),
  renditions: z.array(z.enum(['original', 'cover', 'compact'])),
  encrypted: z.boolean(),
  createdAt: z.string(),
});

export const imagesAnswer = z.object({ images: z.array(imageView) });
export const uploadAnswer = z.object({ image: imageView });

export const problem = z.object({ detail: z.string(), kind: z.string(), status: z.number() });

export const changedEvent = z.object({
  reason: z.string(),
  version: z.optional(z.number()),
  changed: z.optional(z.array(z.string())),
  all: z.optional(z.boolean()),
  conflicts: z.optional(z.array(z.object({ recordId: z.string(), kind: z.string(), copyId: z.optional(z.string()) }))),
});

export type SyncView = z.infer<typeof syncView>;
export type RecordKind = z.infer<typeof kind>;
export type FieldView = z.infer<typeof fieldView>;
export type RecordView = z.infer<typeof recordView>;
export type RecordSummary = z.infer<typeof recordSummary>;
export type HistoryVersion = z.infer<typeof historyAnswer>['versions'][number];
export type Status = z.infer<typeof statusAnswer>;
export type KindTemplate = z.infer<typeof kindsAnswer>['kinds'][number];
export type ImageView = z.infer<typeof imageView>;
export type ChangedEvent = z.infer<typeof changedEvent>;
