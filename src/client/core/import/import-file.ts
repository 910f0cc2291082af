import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { formatBytes } from '../../../domain/byte-sizes.js';
import { KeeperFailure } from '../failures.js';
import { IMPORT_FILE_MAX_BYTES, parseImport } from './parse-import.js';
import { planImport, type ImportPlan, type ImportTarget } from './run-import.js';
import type { ImportFormat } from './types.js';

export { applyImport, planImport, IMPORT_BATCH, type ImportPlan, type ImportTarget, type PlannedItem } from './run-import.js';
export { parseImport } from './parse-import.js';
export { importFormat } from './parse-import.js';
export { IMPORT_FORMATS, type ImportFormat, type Unmapped } from './types.js';

/** A source file's bytes, refused with a sentence when missing, not a file, or implausibly large. */
export async function readImportFile(path: string): Promise<Uint8Array> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new KeeperFailure('not-found', `cannot read ${path}: no such file`);
  if (!info.isFile()) throw new KeeperFailure('invalid', `${path} is not a file`);
  if (info.size > IMPORT_FILE_MAX_BYTES) throw new KeeperFailure('too-large', `${path} is ${formatBytes(info.size)}, more than an import takes (${formatBytes(IMPORT_FILE_MAX_BYTES)})`);
  return readFile(path);
}

/**
 * Reads, parses and plans an import from a file, changing nothing: what every face does before
 * showing a dry run or applying it. `online` says whether the server could be asked which
 * records were deleted (see planImport).
 */
export async function prepareImport(
  handle: ImportTarget,
  input: { format: ImportFormat; path: string; askPassword: () => Promise<string>; online: boolean },
): Promise<ImportPlan> {
  const bytes = await readImportFile(input.path);
  const parsed = await parseImport(input.format, bytes, basename(input.path), input.askPassword);
  return planImport(handle, parsed, { online: input.online });
}

/** One line per kind: "3 login, 1 card". */
export function kindCounts(plan: ImportPlan): string {
  const counts = new Map<string, number>();
  for (const p of plan.create) counts.set(p.item.kind, (counts.get(p.item.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
}
