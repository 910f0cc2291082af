import { item, ItemBuilder, itemName, tagList } from './item-fields.js';
import { rowIds } from './item-ids.js';
import { csvRows } from './csv-rows.js';
import type { ImportItem, ParsedImport, Unmapped } from './types.js';

// KeePassXC's CSV export (Database > Export > CSV File): one row per entry, the group as a path
// from the root ("Root/Work/Mail").
const COLUMNS = ['Group', 'Title', 'Username', 'Password', 'URL', 'Notes', 'TOTP', 'Icon', 'Last Modified', 'Created'] as const;

export function parseKeepassxcCsv(bytes: Uint8Array, fileName: string): ParsedImport {
  const rows = csvRows(bytes, fileName, 'KeePassXC', ['Group', 'Title', 'Username', 'Password', 'URL', 'Notes']);
  const idOf = rowIds();
  const items: ImportItem[] = [];
  const unmapped: Unmapped[] = [];
  rows.forEach((row, index) => {
    const sourceId = idOf(COLUMNS.map((column) => row[column] ?? ''));
    const name = itemName(row.Title, `row ${index + 2}`);
    const fields = new ItemBuilder(name, unmapped);
    fields.add('user', row.Username);
    fields.add('password', row.Password, true);
    fields.add('url', row.URL);
    fields.add('totp', row.TOTP, true, true);
    const loginLike = fields.fields.length > 0;
    fields.add(loginLike ? 'notes' : 'text', row.Notes);
    items.push(item({ sourceId, kind: loginLike ? 'login' : 'note', name, fields: fields.fields, tags: tagList(groupPath(row.Group ?? '')) }));
  });
  return { format: 'keepassxc-csv', items, unmapped };
}

/** The group path without the root group's own name; entries at the root have no folder. */
export function groupPath(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(1).join('/');
}
