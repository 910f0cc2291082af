/**
 * Sizes as people read them, in SI units (1 KB = 1,000 bytes, 1 MB = 1,000,000), the convention
 * of the limits themselves (the compact copy's 1 MB, the 25 MB upload limit). Server messages,
 * the CLI and the TUI all say sizes through this, so a size reads the same everywhere.
 */

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** 512 B, 34.5 KB, 1.3 MB: one decimal above a kilobyte, rounded to the nearest. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.round(Number.isFinite(bytes) ? bytes : 0)} B`;
  let value = bytes / 1000;
  let unit = 0;
  // Move up a unit when rounding would print 1000.0 (999,960 B is 1.0 MB, not 1000.0 KB).
  while (Math.round(value * 10) >= 10_000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A limit or an exact size where the exact number matters too: "25 MB (25,000,000 bytes)". */
export function formatBytesExactly(bytes: number): string {
  const exact = `${Math.round(bytes).toLocaleString('en')} bytes`;
  if (bytes < 1000) return exact;
  const short = formatBytes(bytes).replace(/\.0 /, ' ');
  return `${short} (${exact})`;
}
