import { openExport, WrongSecretWord } from '../../crypto/index.js';
import { z } from 'zod';
import { CSV_COLUMNS } from '../export/export-files.js';
import { keeperExportSchema, type ExportRecord } from '../export/keeper-export.js';
import { KeeperFailure } from '../failures.js';
import { csvRows } from './csv-rows.js';
import { item } from './item-fields.js';
import type { ImportItem, ParsedImport } from './types.js';
import { recordKindSchema } from '../../../domain/record.js';

const sealedSchema = z.object({ format: z.literal('keeper-encrypted-export'), v: z.literal(1), envelope: z.unknown(), data: z.string() });

/**
 * Keeper's own exports, whichever was written: the JSON, the CSV, or the JSON sealed under a
 * password (asked for only then). Records keep their ids, so importing a file into the vault it
 * came from finds every record already there.
 */
export async function parseKeeperFile(bytes: Uint8Array, fileName: string, askPassword: () => Promise<string>): Promise<ParsedImport> {
  const text = Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, '');
  if (!text.trimStart().startsWith('{')) return fromCsv(bytes, fileName);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KeeperFailure('invalid', `${fileName} is not a Keeper export: it is not JSON (${(error as Error).message})`);
  }
  const sealed = sealedSchema.safeParse(json);
  if (sealed.success) {
    try {
      json = JSON.parse(await openExport(sealed.data, await askPassword()));
    } catch (error) {
      if (error instanceof WrongSecretWord) throw new KeeperFailure('wrong-secret', `the password of ${fileName} is wrong (or the file was altered); nothing was imported`);
      throw error;
    }
  }
  const doc = keeperExportSchema.safeParse(json);
  if (!doc.success) {
    const issue = doc.error.issues[0];
    throw new KeeperFailure('invalid', `${fileName} is not a Keeper export: ${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'unexpected shape'}`);
  }
  return { format: 'keeper', items: doc.data.records.map(fromRecord), unmapped: [] };
}

function fromRecord(record: ExportRecord): ImportItem {
  const fields = record.fields.map((f) => ({ name: f.name, value: f.value, sensitive: f.sensitive, ...(f.kind === 'totp' ? { totp: true } : {}) }));
  return item({ sourceId: record.id, recordId: record.id, kind: record.kind, name: record.name, fields, tags: record.tags, favourite: record.favourite });
}

function fromCsv(bytes: Uint8Array, fileName: string): ParsedImport {
  const rows = csvRows(bytes, fileName, 'Keeper', CSV_COLUMNS);
  const byId = new Map<string, ImportItem>();
  for (const [index, row] of rows.entries()) {
    const id = row.record_id ?? '';
    const kind = recordKindSchema.safeParse(row.kind);
    if (!z.uuid().safeParse(id).success || !kind.success) throw new KeeperFailure('invalid', `${fileName} line ${index + 2}: not a Keeper export row (record_id must be a UUID, kind one of login, card, note, custom)`);
    let record = byId.get(id);
    if (!record) {
      record = item({ sourceId: id, recordId: id, kind: kind.data, name: row.name ?? '', fields: [], tags: (row.tags ?? '').split('\n').filter(Boolean), favourite: row.favourite === '1' });
      byId.set(id, record);
    }
    if (row.field) record.fields.push({ name: row.field, value: row.value ?? '', sensitive: row.sensitive === '1', ...(row.field_kind === 'totp' ? { totp: true } : {}) });
  }
  return { format: 'keeper', items: [...byId.values()], unmapped: [] };
}
