import { randomUUID } from 'node:crypto';
import { isRecordEvent, type VaultEvent } from '../../domain/events.js';
import { rebase, type ConflictNotice } from '../../domain/rebase.js';
import { replayLogUpTo } from './history.js';
import { VaultLocked, type KeyRing } from './key-ring.js';
import { resealContent } from './record-crypto.js';
import type { Replica } from './replica.js';
import type { VaultTransport } from './transport.js';

export interface SyncReport {
  /** What crossed the wire: nothing (versions equal), events, or a snapshot for a cold start. */
  transfer: 'none' | 'events' | 'snapshot';
  pulled: number;
  pushed: number;
  version: number;
  conflicts: ConflictNotice[];
  /**
   * Records that events from elsewhere changed (this client's own pushes left out), so a UI can
   * refresh what it shows. After a snapshot (transfer 'snapshot') anything may have changed.
   */
  changed: string[];
}

/** What one sync works on. */
export interface SyncParty {
  transport: VaultTransport;
  replica: Replica;
  keys: KeyRing;
  clientId: string;
  now: () => number;
  /** The replica was started again from a snapshot: whatever was derived from it is stale. */
  restarted: () => void;
  /** Messages for the user (a replica rebuilt from the server, say). */
  notices: string[];
}

const PUSH_BATCH = 500;
const MAX_PUSH_ATTEMPTS = 10;

/**
 * Status first: equal versions and nothing pending means nothing more crosses the wire. A server
 * ahead is pulled (it has priority) and local edits are rebased on it (server wins per field, the
 * losing edit kept as a conflict copy); then pending edits are pushed at the synced version until
 * accepted. Saving the replica is the caller's, whatever happens.
 */
export async function syncReplica(party: SyncParty): Promise<SyncReport> {
  const { replica, transport } = party;
  const report: SyncReport = { transfer: 'none', pulled: 0, pushed: 0, version: replica.version, conflicts: [], changed: [] };
  const status = await transport.status();
  // A snapshot is the cheap start, but only the log shows which pending edits already landed.
  if (replica.version === 0 && replica.synced.records.size === 0 && status.version > 0 && replica.pending.length === 0) {
    await coldStart(party, report);
  } else if (status.version < replica.version) {
    // The server knows less than this replica (restored from a backup, or another server with
    // the same address): the server has priority, so start again from its snapshot.
    party.notices.push(`the server is at version ${status.version}, behind this client's ${report.version}: the replica was rebuilt from the server`);
    await coldStart(party, report);
  } else if (status.version > replica.version) {
    await pullAndRebase(party, report);
  }
  for (let attempt = 0; replica.pending.length > 0; attempt++) {
    if (attempt >= MAX_PUSH_ATTEMPTS) throw new Error('the vault kept changing during this sync; your changes are kept, sync again');
    if (replica.encrypted && !party.keys.key && replica.pending.some((c) => c.type !== 'DeleteRecord')) throw new VaultLocked('sync your changes');
    const batch = replica.pending.slice(0, PUSH_BATCH);
    const outcome = await transport.push({ expectedVersion: replica.version, clientId: party.clientId, commands: batch });
    if (outcome.accepted) report.pushed += batch.length;
    // Either way, take the server's events from the synced version: our own accepted events
    // come back (and leave the queue as landed), anyone else's are rebased on.
    await pullAndRebase(party, report);
  }
  report.version = replica.version;
  report.changed = [...new Set(report.changed)];
  return report;
}

async function coldStart(party: SyncParty, report: SyncReport): Promise<void> {
  const snapshot = await party.transport.list();
  // Without a way to ask, an encrypted vault is taken locked: its sealed values stay sealed.
  if (snapshot.vaultKey && !party.keys.key && party.keys.canAsk) await party.keys.ask(snapshot.vaultKey.envelope);
  party.replica.restartFrom(snapshot);
  party.restarted();
  report.transfer = 'snapshot';
  // The read model may lag the log: take the tail from the version it reflects.
  await pullAndRebase(party, report);
  party.replica.recomputeOverlay();
}

async function pullAndRebase(party: SyncParty, report: SyncReport): Promise<void> {
  const { replica, keys } = party;
  const events: VaultEvent[] = [];
  await party.transport.pull(replica.version, (batch) => {
    for (const event of batch) events.push(event);
  });
  if (events.length === 0) return;
  if (!replica.encrypted && !keys.key && keys.canAsk) {
    // Encryption was turned on from another client. The key is asked for before anything of the
    // pull is taken: a wrong word then leaves the replica as it was, and the next sync asks again
    // (taking the events first would leave it encrypted without a key, with nothing left to ask).
    let envelope: string | undefined;
    for (const event of events) if (event.type === 'VaultKeySet') envelope = event.data.envelope;
    if (envelope !== undefined) await keys.ask(envelope);
  }
  await loadMissingTombstones(party, events);
  if (report.transfer === 'none') report.transfer = 'events';
  report.pulled += events.length;
  const before = replica.applyServerEvents(events);
  const result = rebase({
    pending: replica.pending,
    serverEvents: events,
    base: (id) => (before.has(id) ? before.get(id) : replica.synced.get(id)),
    server: (id) => replica.synced.get(id),
    serverKeyId: replica.synced.vaultKey?.keyId ?? null,
    newId: randomUUID,
    now: party.now(),
    copyContent: (content, fromId, toId) => resealContent(keys.key, content, fromId, toId),
  });
  replica.pending = result.pending;
  const landed = new Set(result.landed);
  for (const event of events) if (!landed.has(event.id) && 'recordId' in event.data) report.changed.push(event.data.recordId);
  report.conflicts.push(...result.conflicts);
  report.version = replica.version;
  replica.recomputeOverlay();
}

/**
 * A replica started from a snapshot (List) has no deleted records, and evolve cannot restore a
 * record it does not know: before a pulled restore of such a record, its tombstone is read from
 * the log up to the synced version.
 */
async function loadMissingTombstones(party: SyncParty, events: VaultEvent[]): Promise<void> {
  const known = party.replica.synced.records;
  const seen = new Set<string>();
  let missing = false;
  for (const event of events) {
    if (!isRecordEvent(event) || seen.has(event.data.recordId)) continue;
    seen.add(event.data.recordId);
    if (event.type === 'RecordRestored' && !known.has(event.data.recordId)) missing = true;
  }
  if (!missing) return;
  party.replica.rememberFromLog(await replayLogUpTo(party.transport, party.replica.version));
}
