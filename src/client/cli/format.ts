import { fieldKindOf, type VaultRecord } from '../../domain/record.js';
import { maskField } from '../core/masking.js';
import { escapeControls } from '../terminal-text.js';

export function formatTime(ms: number): string {
  if (!ms) return '-';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** Left-aligned columns separated by two spaces, for any number of rows. */
export function table(header: string[], cells: string[][]): string {
  // One row per line: a line break or control character inside a cell is shown, not obeyed.
  const rows = cells.map((row) => row.map((cell) => escapeControls(cell)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatRecord(record: VaultRecord, reveal: boolean): string {
  const lines = [
    `${record.favourite ? '* ' : ''}${escapeControls(record.name)}  (${record.kind}${record.favourite ? ', favourite' : ''})`,
    `id       ${record.id}`,
    `created  ${formatTime(record.createdAt)}`,
    `updated  ${formatTime(record.updatedAt)}`,
    `version  ${record.version}`,
  ];
  if (record.tags.length > 0) lines.push(`tags     ${escapeControls(record.tags.join(', '))}`);
  if (record.fields.length > 0) {
    const names = record.fields.map((f) => escapeControls(f.name));
    const width = Math.max(...names.map((name) => name.length));
    lines.push('fields');
    record.fields.forEach((field, i) => lines.push(`  ${names[i]!.padEnd(width)}  ${escapeControls(maskField(field, reveal))}${fieldNote(field)}`));
    if (!reveal && record.fields.some((f) => f.sensitive)) lines.push('(sensitive values are hidden; add --reveal to show them)');
  }
  return lines.join('\n');
}

function fieldNote(field: VaultRecord['fields'][number]): string {
  if (fieldKindOf(field) === 'totp') return '  (one-time code: keeper code)';
  return field.sensitive ? '  (sensitive)' : '';
}
