import type { RecordKind, VaultRecord } from '../../domain/record.js';
import { isSealed } from '../crypto/index.js';
import type { SyncEngine } from '../sync/sync-engine.js';

/** A record's place in the name order: its name in lower case, then its id. */
export interface OrderedRecord {
  record: VaultRecord;
  id: string;
  key: string;
}

export function compareOrder(a: { key: string; id: string }, b: { key: string; id: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The name as the order sees it, opened only when sealed; a sealed name sorts last while locked. */
function sortKey(vault: SyncEngine, record: VaultRecord): string {
  const name: string = record.name;
  if (!isSealed(name as unknown)) return name.toLowerCase();
  const opened = vault.open(record);
  return opened.unreadable.includes('name') ? '\uffff' : opened.name.toLowerCase();
}

/**
 * The live records by name (of one kind when given), as every face lists them. Only names are
 * opened, so a page of values is decrypted only when shown.
 */
export function recordsByName(vault: SyncEngine, kind?: RecordKind): OrderedRecord[] {
  return vault
    .records()
    .filter((record) => !kind || record.kind === kind)
    .map((record) => ({ record, id: record.id, key: sortKey(vault, record) }))
    .sort(compareOrder);
}
