import { inputFieldListSchema, inputRecordNameSchema, inputTagListSchema } from '../../../domain/record.js';
import { LIMITS } from '../../../domain/limits.js';
import type { ConflictNotice } from '../../../domain/rebase.js';
import type { NewRecord } from '../../sync/sync-engine.js';
import type { VaultHandle } from '../vault-handle.js';

/** What an import works on: a vault handle (or anything with its replica, user and turn-taking). */
export type ImportTarget = Pick<VaultHandle, 'vault' | 'userId' | 'exclusive'>;
import { importedRecordId } from './item-ids.js';
import { recordInput } from './record-input.js';
import type { ImportFormat, ImportItem, ParsedImport, Unmapped } from './types.js';

export interface PlannedItem {
  item: ImportItem;
  recordId: string;
  input: NewRecord;
}

/** What an import would do (a dry run's report) and, once applied, did. */
export interface ImportPlan {
  format: ImportFormat;
  /** Items read from the file. */
  read: number;
  create: PlannedItem[];
  /** Imported before (or, for Keeper's own files, the same record): left as they are. */
  existing: PlannedItem[];
  /** Imported before and deleted since: not made again (restore them from the history instead). */
  deleted: PlannedItem[];
  /** Items not imported and parts of items not kept, with why. */
  unmapped: Unmapped[];
  /** False when the server could not be asked which records were deleted (a dry run offline). */
  deletedChecked: boolean;
}

/** Records queued and pushed together: well under a push's limit (LIMITS.mutationsPerPushMax). */
export const IMPORT_BATCH = 250;

/**
 * Decides what an import creates. Each item's record id is derived from the user, the format and
 * the item (./item-ids.ts), so an item imported before is found by id: live, it is left alone;
 * deleted since, it is not made again (the server would refuse the id, and the user deleted it).
 * Deleted records are known only to the log, read when some item is not among the live records
 * and the server is reachable.
 */
export async function planImport(handle: ImportTarget, parsed: ParsedImport, options: { online: boolean }): Promise<ImportPlan> {
  const plan: ImportPlan = { format: parsed.format, read: parsed.items.length, create: [], existing: [], deleted: [], unmapped: [...parsed.unmapped], deletedChecked: false };
  const vault = handle.vault;
  const planned: PlannedItem[] = [];
  const seen = new Set<string>();
  for (const item of parsed.items) {
    const recordId = item.recordId ?? importedRecordId(handle.userId, parsed.format, item.sourceId);
    if (seen.has(recordId)) {
      plan.unmapped.push({ item: item.name, what: 'not imported: the file holds this item twice' });
      continue;
    }
    seen.add(recordId);
    const input = recordInput(item, plan.unmapped);
    const refusal = refusalOf(input);
    if (refusal) plan.unmapped.push({ item: item.name || '(no name)', what: `not imported: ${refusal}` });
    else planned.push({ item, recordId, input: { ...input, recordId } });
  }
  const missing = planned.filter((p) => !vault.record(p.recordId));
  let deleted = new Set<string>();
  if (missing.length > 0 && options.online) {
    deleted = new Set((await handle.exclusive((v) => v.deletedRecords())).map((r) => r.id));
    plan.deletedChecked = true;
  } else if (missing.length === 0) plan.deletedChecked = true;
  for (const p of planned) {
    if (vault.record(p.recordId)) plan.existing.push(p);
    else if (deleted.has(p.recordId)) plan.deleted.push(p);
    else plan.create.push(p);
  }
  return plan;
}

/** Why a record could not be made of this input, as the server would say it; undefined when it can. */
function refusalOf(input: NewRecord): string | undefined {
  const name = inputRecordNameSchema.safeParse(input.name);
  if (!name.success) return `its name ${name.error.issues[0]?.message}`;
  const fields = inputFieldListSchema.safeParse(input.fields);
  if (!fields.success) {
    const issue = fields.error.issues[0];
    const field = typeof issue?.path[0] === 'number' ? input.fields[issue.path[0]]?.name : undefined;
    return `${field === undefined ? '' : `field "${field}": `}${issue?.message}`;
  }
  const tags = inputTagListSchema.safeParse(input.tags ?? []);
  if (!tags.success) return `tag ${tags.error.issues[0]?.message}`;
  const bytes = Buffer.byteLength(JSON.stringify({ name: input.name, fields: input.fields, tags: input.tags }));
  if (bytes > LIMITS.recordBytesMax) return `the record would be ${bytes} bytes, over the limit of ${LIMITS.recordBytesMax}`;
  return undefined;
}

export interface ApplyProgress {
  (done: number, total: number): void;
}

/**
 * Creates the plan's records a batch at a time: each batch is queued on the replica (kept once)
 * and pushed in one push by a sync. A batch that fails to reach the server stays queued in the
 * replica and goes with the next sync; running the import again then finds its records.
 */
export async function applyImport(
  handle: ImportTarget,
  plan: ImportPlan,
  options: { onProgress?: ApplyProgress | undefined; batchSize?: number } = {},
): Promise<{ created: number; batches: number; conflicts: ConflictNotice[] }> {
  const size = options.batchSize ?? IMPORT_BATCH;
  let created = 0;
  let batches = 0;
  const conflicts: ConflictNotice[] = [];
  for (let start = 0; start < plan.create.length; start += size) {
    const batch = plan.create.slice(start, start + size);
    await handle.exclusive(async (vault) => {
      await vault.createMany(batch.map((p) => p.input));
      conflicts.push(...(await vault.sync()).conflicts);
    });
    created += batch.length;
    batches++;
    options.onProgress?.(created, plan.create.length);
  }
  return { created, batches, conflicts };
}
