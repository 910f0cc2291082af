import { sealExport, type CreateVaultKeyOptions } from '../../crypto/index.js';
import type { KeeperExport } from './keeper-export.js';

export { EXPORT_FORMATS, type ExportFormat } from './formats.js';

export function exportJson(doc: KeeperExport): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The CSV's columns: one row per field (a record without fields has one row with empty field cells); tags one a line. */
export const CSV_COLUMNS = ['record_id', 'kind', 'name', 'tags', 'favourite', 'field', 'value', 'sensitive', 'field_kind'] as const;

/** RFC 4180: every cell quoted, quotes doubled, so commas and line breaks in values survive. */
function cell(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

export function exportCsv(doc: KeeperExport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const record of doc.records) {
    const head = [record.id, record.kind, record.name, record.tags.join('\n'), record.favourite ? '1' : ''];
    const fields = record.fields.length > 0 ? record.fields : [undefined];
    for (const field of fields) lines.push([...head, field?.name ?? '', field?.value ?? '', field?.sensitive ? '1' : '', field?.kind ?? ''].map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The JSON export sealed under a password with the vault's KDF and AEAD (../../crypto/export-cipher.ts). */
export async function exportEncrypted(doc: KeeperExport, password: string, options: CreateVaultKeyOptions = {}): Promise<string> {
  return `${JSON.stringify(await sealExport(JSON.stringify(doc), password, options), null, 2)}\n`;
}
