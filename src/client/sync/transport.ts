import type { VaultCommand } from '../../domain/commands.js';
import type { RecordState } from '../../domain/decider.js';
import type { VaultEvent } from '../../domain/events.js';
import type { ImageState } from '../../domain/images.js';

/** The vault as the server lists it: live records and their images, at one version. */
export interface VaultSnapshot {
  version: number;
  lastModifiedAt: number;
  records: RecordState[];
  images: ImageState[];
  vaultKey: { keyId: string; envelope: string } | null;
}

/** A push lands whole at the expected version, or not at all when the vault moved on. */
export type PushOutcome = { accepted: true; version: number; duplicate: boolean } | { accepted: false; currentVersion: number };

export interface PushBatch {
  expectedVersion: number;
  clientId: string;
  commands: VaultCommand[];
}

/**
 * What a replica needs from wherever the user's log lives, in domain terms: the gRPC adapter
 * speaks to a Keeper server, an in-memory one lets sync and rebase be tested without one.
 * Failures are the transport's own (a gRPC adapter throws its ServiceErrors); the core's
 * failure mapping reads them.
 */
export interface VaultTransport {
  status(): Promise<{ version: number; lastModifiedAt: number }>;
  /** The whole snapshot (a transport that pages puts the pages together). */
  list(): Promise<VaultSnapshot>;
  /** Every event after `sinceVersion`, in order, handed over a batch at a time as it arrives. */
  pull(sinceVersion: number, onEvents: (events: VaultEvent[]) => void): Promise<void>;
  /** Safe to repeat: the commands' mutation ids make a repeated push land once. */
  push(batch: PushBatch): Promise<PushOutcome>;
}
