import { z } from 'zod';
import type { RecordKind, VaultRecord } from '../../domain/record.js';
import { isSealed } from '../crypto/index.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import { KeeperFailure } from './failures.js';

/** A record in name order: its name in lower case (opened when sealed; last while it cannot be). */
interface Placed {
  record: VaultRecord;
  key: string;
  id: string;
}

export interface NamePage {
  records: VaultRecord[];
  /** Records of the asked kind in all. */
  total: number;
  /** Where the next page starts; null on the last. */
  nextCursor: string | null;
}

/**
 * Faces that list a vault page by page (the agent, the bot) ask for the same order again and
 * again; it is kept per replica until the replica's view moves (an edit, a sync, a lock).
 */
const placedBy = new WeakMap<SyncEngine, { revision: number; all: Placed[] }>();

const cursorSchema = z.tuple([z.string(), z.string()]);

function order(a: { key: string; id: string }, b: { key: string; id: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sortKey(vault: SyncEngine, record: VaultRecord): string {
  const name: string = record.name;
  if (!isSealed(name as unknown)) return name.toLowerCase();
  const opened = vault.open(record);
  return opened.unreadable.includes('name') ? '\uffff' : opened.name.toLowerCase();
}

function inNameOrder(vault: SyncEngine): Placed[] {
  const kept = placedBy.get(vault);
  if (kept && kept.revision === vault.revision) return kept.all;
  // Only the names are opened (decrypted) for the order; the page's values stay as stored.
  const all = vault
    .records()
    .map((record) => ({ record, id: record.id, key: sortKey(vault, record) }))
    .sort(order);
  placedBy.set(vault, { revision: vault.revision, all });
  return all;
}

/** Every live record in name order (kept per replica revision: do not change the array). */
export function recordsByName(vault: SyncEngine): readonly VaultRecord[] {
  return inNameOrder(vault).map((placed) => placed.record);
}

/** The page of live records after `cursor` in name order (any case), of one kind when asked. */
export function pageByName(
  vault: SyncEngine,
  options: { kind?: RecordKind | undefined; limit: number; cursor?: string | undefined; where?: ((record: VaultRecord) => boolean) | undefined },
): NamePage {
  const { kind, where } = options;
  const all = kind || where ? inNameOrder(vault).filter((placed) => (!kind || placed.record.kind === kind) && (!where || where(placed.record))) : inNameOrder(vault);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const from = after ? firstAfter(all, { key: after[0], id: after[1] }) : 0;
  const page = all.slice(from, from + options.limit);
  const last = page.at(-1);
  const more = from + options.limit < all.length;
  return { records: page.map((placed) => placed.record), total: all.length, nextCursor: more && last ? encodeCursor(last) : null };
}

/** The index of the first entry past `position` (binary search: the entries are in order). */
function firstAfter(all: Placed[], position: { key: string; id: string }): number {
  let low = 0;
  let high = all.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (order(all[middle]!, position) > 0) high = middle;
    else low = middle + 1;
  }
  return low;
}

function encodeCursor(placed: Placed): string {
  return Buffer.from(JSON.stringify([placed.key, placed.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new KeeperFailure('invalid', 'the cursor is not one given out here; start from the first page');
  }
}
