import type { VaultHandle } from '../vault-handle.js';
import { exportCsv, exportEncrypted, exportJson, EXPORT_FORMATS, type ExportFormat } from './export-files.js';
import { collectExport } from './keeper-export.js';
import { KeeperFailure } from '../failures.js';

export { EXPORT_FORMATS, type ExportFormat } from './export-files.js';
export { PLAINTEXT_WARNING } from './keeper-export.js';

export function exportFormat(name: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(name)) return name as ExportFormat;
  throw new KeeperFailure('invalid', `unknown export format "${name}": one of ${EXPORT_FORMATS.join(', ')}`);
}

/**
 * The vault as a file's text in one of the export formats. `password` protects the encrypted
 * format (asked only for it); `history` adds every record's versions from the server's log.
 */
export async function exportVault(
  handle: Pick<VaultHandle, 'exclusive'>,
  input: { format: ExportFormat; history?: boolean; password?: () => Promise<string> },
): Promise<{ text: string; records: number }> {
  const doc = await handle.exclusive((vault) => collectExport(vault, { history: Boolean(input.history) }));
  switch (input.format) {
    case 'json':
      return { text: exportJson(doc), records: doc.records.length };
    case 'csv':
      if (input.history) throw new KeeperFailure('invalid', 'a CSV export holds no history: choose --format json or encrypted for --history');
      return { text: exportCsv(doc), records: doc.records.length };
    case 'encrypted':
      if (!input.password) throw new KeeperFailure('invalid', 'an encrypted export needs a password');
      return { text: await exportEncrypted(doc, await input.password()), records: doc.records.length };
  }
}
