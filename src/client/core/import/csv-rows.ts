import { parse } from 'csv-parse/sync';
import { KeeperFailure } from '../failures.js';

/**
 * A CSV file's rows as objects keyed by its header, after checking the header has the columns a
 * format needs (so a file of another format is named as such rather than half read).
 */
export function csvRows(bytes: Uint8Array, fileName: string, what: string, required: readonly string[]): Array<Record<string, string>> {
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(Buffer.from(bytes), { bom: true, columns: true, skip_empty_lines: true, relax_column_count: false, trim: false }) as Array<Record<string, string>>;
  } catch (error) {
    throw new KeeperFailure('invalid', `${fileName} is not a readable CSV file: ${(error as Error).message}`);
  }
  const header = rows.length > 0 ? Object.keys(rows[0]!) : firstLine(bytes);
  const missing = required.filter((column) => !header.includes(column));
  if (missing.length > 0) throw new KeeperFailure('invalid', `${fileName} is not a ${what} CSV export: it has no column ${missing.map((c) => `"${c}"`).join(', ')}`);
  return rows;
}

function firstLine(bytes: Uint8Array): string[] {
  try {
    const [header] = parse(Buffer.from(bytes), { bom: true, to_line: 1 }) as string[][];
    return header ?? [];
  } catch {
    return [];
  }
}
