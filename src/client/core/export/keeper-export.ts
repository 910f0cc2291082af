import { z } from 'zod';
import { fieldSchema, recordKindSchema, type Field, type RecordKind } from '../../../domain/record.js';
import type { SyncEngine } from '../../sync/sync-engine.js';
import { KeeperFailure } from '../failures.js';

/** Said in the file and by every face before it writes one: the file is the vault in the clear. */
export const PLAINTEXT_WARNING = 'this file holds your records in plaintext, passwords and card numbers included: keep it somewhere safe and delete it when done';

const versionSchema = z.object({
  version: z.number().int(),
  at: z.number(),
  type: z.string(),
  kind: recordKindSchema,
  name: z.string(),
  fields: z.array(fieldSchema),
});

export const exportRecordSchema = z.object({
  id: z.string(),
  kind: recordKindSchema,
  name: z.string(),
  fields: z.array(fieldSchema),
  tags: z.array(z.string()).default([]),
  favourite: z.boolean().default(false),
  createdAt: z.number(),
  updatedAt: z.number(),
  conflictOf: z.string().optional(),
  history: z.array(versionSchema).optional(),
});

/** Keeper's own export: every live record with its fields as the user sees them (sealed values opened). */
export const keeperExportSchema = z.object({
  format: z.literal('keeper-export'),
  v: z.literal(1),
  exportedAt: z.string(),
  warning: z.string(),
  records: z.array(exportRecordSchema),
});

export type ExportRecord = z.infer<typeof exportRecordSchema>;
export type KeeperExport = z.infer<typeof keeperExportSchema>;

/** A field as exported: its kind only when it is not text. */
function exported(field: Field): Field {
  return { name: field.name, value: field.value, sensitive: field.sensitive, ...(field.kind && field.kind !== 'text' ? { kind: field.kind } : {}) };
}

/**
 * Everything the vault holds now, opened: it needs the key when the vault is encrypted (a sealed
 * value left sealed would be useless in an export). With `history`, every record's versions from
 * the log (fetched now: the server must be reachable).
 */
export async function collectExport(vault: SyncEngine, options: { history?: boolean; now?: number } = {}): Promise<KeeperExport> {
  if (vault.encrypted && !vault.unlocked) throw new KeeperFailure('locked', 'the vault is encrypted and locked: unlock it to export');
  const versions = options.history ? await vault.histories() : undefined;
  const records: ExportRecord[] = [];
  for (const stored of vault.records()) {
    const record = vault.open(stored);
    if (record.unreadable.length > 0) throw new KeeperFailure('locked', `record "${record.name}" has values that do not open with this key: nothing was exported`);
    const entry: ExportRecord = {
      id: record.id,
      kind: record.kind,
      name: record.name,
      fields: record.fields.map(exported),
      tags: record.tags,
      favourite: record.favourite,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...(record.conflictOf ? { conflictOf: record.conflictOf } : {}),
    };
    if (versions) {
      entry.history = (versions.get(record.id) ?? []).map((v) => {
        const opened = vault.open(v.state);
        return { version: v.version, at: v.at, type: v.type, kind: opened.kind as RecordKind, name: opened.name, fields: opened.fields.map(exported) };
      });
    }
    records.push(entry);
  }
  records.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { format: 'keeper-export', v: 1, exportedAt: new Date(options.now ?? Date.now()).toISOString(), warning: PLAINTEXT_WARNING, records };
}
