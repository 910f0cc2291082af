import { item, ItemBuilder, itemName, tagList } from './item-fields.js';
import { rowIds } from './item-ids.js';
import { csvRows } from './csv-rows.js';
import type { ImportItem, ParsedImport, Unmapped } from './types.js';

// Bitwarden's CSV export (personal vault): logins and secure notes only, one row each.
const COLUMNS = ['folder', 'favorite', 'type', 'name', 'notes', 'fields', 'reprompt', 'login_uri', 'login_username', 'login_password', 'login_totp'] as const;

export function parseBitwardenCsv(bytes: Uint8Array, fileName: string): ParsedImport {
  const rows = csvRows(bytes, fileName, 'Bitwarden', ['folder', 'type', 'name', 'login_username', 'login_password']);
  const idOf = rowIds();
  const items: ImportItem[] = [];
  const unmapped: Unmapped[] = [];
  rows.forEach((row, index) => {
    const sourceId = idOf(COLUMNS.map((column) => row[column] ?? ''));
    const name = itemName(row.name, `row ${index + 2}`);
    const fields = new ItemBuilder(name, unmapped);
    const type = (row.type ?? '').trim();
    if (type !== 'login' && type !== 'note') {
      unmapped.push({ item: name, what: `not imported: type "${type}" (a Bitwarden CSV holds logins and notes)` });
      return;
    }
    if (type === 'login') {
      fields.add('user', row.login_username);
      fields.add('password', row.login_password, true);
      // Several URIs are joined with commas in one cell.
      for (const uri of (row.login_uri ?? '').split(',')) fields.add('url', uri.trim());
      fields.add('totp', row.login_totp, true, true);
      fields.add('notes', row.notes);
    } else {
      fields.add('text', row.notes);
    }
    // Custom fields: one "name: value" a line.
    for (const line of (row.fields ?? '').split(/\r?\n/)) {
      if (!line.trim()) continue;
      const colon = line.indexOf(': ');
      if (colon < 0) fields.add('field', line.trim());
      else fields.add(line.slice(0, colon), line.slice(colon + 2));
    }
    items.push(item({ sourceId, kind: type === 'login' ? 'login' : 'note', name, fields: fields.fields, tags: tagList(row.folder), favourite: row.favorite === '1' || row.favorite === 'true' }));
  });
  return { format: 'bitwarden-csv', items, unmapped };
}
