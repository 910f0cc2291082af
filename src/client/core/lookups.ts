import type { ImageState } from '../../domain/images.js';
import type { VaultRecord } from '../../domain/record.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import { KeeperFailure } from './failures.js';

/** Ids are given whole or by a prefix this long at least: shorter ones match too much by chance. */
const MIN_PREFIX = 4;

function idMatches(id: string, needle: string): boolean {
  return id === needle || (needle.length >= MIN_PREFIX && id.startsWith(needle));
}

/** The live record with this exact id (from a face's own link or button); another user's id is simply not found. */
export function liveRecord(vault: SyncEngine, id: string): VaultRecord {
  const record = vault.record(id);
  if (!record) throw new KeeperFailure('not-found', `no record ${id}`);
  return record;
}

/** A live record by full id, unique id prefix, or exact (decrypted) name, any case. */
export function findRecord(vault: SyncEngine, ref: string): OpenedRecord {
  const records = vault.records().map((r) => vault.open(r));
  const needle = ref.toLowerCase();
  const byId = records.filter((r) => idMatches(r.id, needle));
  const matches = byId.length > 0 ? byId : records.filter((r) => r.name.toLowerCase() === needle);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new KeeperFailure('not-found', `no record matches "${ref}" (give an id, an id prefix of ${MIN_PREFIX}+ characters, or the exact name)`);
  throw new KeeperFailure('ambiguous', `"${ref}" matches ${matches.length} records (${matches.map((r) => r.id.slice(0, 8)).join(', ')}); give more of the id`);
}

/** History and restore also reach deleted records (read from the log), by the same rules; the record's id. */
export async function findAnyRecordId(vault: SyncEngine, ref: string): Promise<string> {
  try {
    return findRecord(vault, ref).id;
  } catch (error) {
    if (!(error instanceof KeeperFailure) || error.kind !== 'not-found') throw error;
    const needle = ref.toLowerCase();
    const deleted = (await vault.deletedRecords()).filter((r) => idMatches(r.id, needle) || vault.open(r).name.toLowerCase() === needle);
    if (deleted.length === 1) return deleted[0]!.id;
    throw error;
  }
}

/** An attached image of a live record by full id or unique id prefix. */
export function findImage(vault: SyncEngine, ref: string): ImageState {
  const needle = ref.toLowerCase();
  const matches = vault.allImages().filter((image) => idMatches(image.id, needle));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new KeeperFailure('not-found', `no image matches "${ref}" (give its id or an id prefix of ${MIN_PREFIX}+ characters)`);
  throw new KeeperFailure('ambiguous', `"${ref}" matches ${matches.length} images; give more of the id`);
}
