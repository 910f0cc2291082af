import type { RecordState } from '../../domain/decider.js';
import type { VaultEvent } from '../../domain/events.js';
import { VaultState } from '../../domain/vault-state.js';
import type { VaultTransport } from './transport.js';

export interface RecordVersion {
  version: number;
  at: number;
  type: VaultEvent['type'];
  clientId: string;
  /** The record right after this event. */
  state: RecordState;
  /** A restore: the version it put back. */
  fromVersion?: number | undefined;
}

export interface ReplayedLog {
  /** The whole vault, deleted records included. */
  state: VaultState;
  /** Every version of every record, oldest first. */
  versions: Map<string, RecordVersion[]>;
}

/**
 * The user's whole log, fetched and folded now: a replica keeps only the latest state of each
 * record, the history of a record (and what is restorable) is the log's.
 */
export async function replayLog(transport: VaultTransport): Promise<ReplayedLog> {
  const state = new VaultState();
  const versions = new Map<string, RecordVersion[]>();
  await transport.pull(0, (events) => {
    for (const event of events) {
      state.apply(event);
      if (event.type === 'VaultKeySet') continue;
      const after = state.get(event.data.recordId);
      if (!after) continue;
      const list = versions.get(event.data.recordId) ?? [];
      const entry: RecordVersion = { version: event.version, at: event.metadata.at, type: event.type, clientId: event.metadata.clientId, state: after };
      if (event.type === 'RecordRestored') entry.fromVersion = event.data.fromVersion;
      list.push(entry);
      versions.set(event.data.recordId, list);
    }
  });
  return { state, versions };
}

/** The log up to `upTo`, folded (what a snapshot start needs to know of deleted records). */
export async function replayLogUpTo(transport: VaultTransport, upTo: number): Promise<VaultState> {
  const past = new VaultState();
  await transport.pull(0, (batch) => {
    for (const event of batch) if (event.version <= upTo) past.apply(event);
  });
  return past;
}
