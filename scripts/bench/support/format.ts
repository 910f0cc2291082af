import type { ResultRow } from '../types.js';

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 */
export function count(value: number): string {
  return whole.format(value);
}

/** 12,345/s */
export function rate(value: number, unit: string): string {
  return `${whole.format(value)} ${unit}/s`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function ratio(value: number): string {
  return value.toFixed(2);
}

const COLUMNS: Array<{ key: keyof ResultRow; title: string }> = [
  { key: 'benchmark', title: 'benchmark' },
  { key: 'figure', title: 'figure' },
  { key: 'baseline', title: 'baseline' },
  { key: 'ratio', title: 'ratio' },
  { key: 'target', title: 'target' },
  { key: 'verdict', title: 'verdict' },
];

/** A plain-text table: a header, a rule, one line per row; columns padded to their widest cell. */
export function renderTable(rows: readonly ResultRow[]): string {
  const widths = COLUMNS.map((column) => Math.max(column.title.length, ...rows.map((row) => row[column.key].length)));
  const line = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index]!)).join(' | ').trimEnd();
  return [
    line(COLUMNS.map((column) => column.title)),
    widths.map((width) => '-'.repeat(width)).join('-|-'),
    ...rows.map((row) => line(COLUMNS.map((column) => row[column.key]))),
  ].join('\n');
}
