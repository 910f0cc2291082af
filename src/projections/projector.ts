import { evolve, type RecordState } from '../domain/decider.js';
import { isRecordEvent, toVaultEvent, type RecordEvent, type VaultEvent } from '../domain/events.js';
import { readAllWith } from '../server/eventstore/sql.js';
import { LOG_START, type EventStore, type LoggedEvent, type LogPosition } from '../server/eventstore/port.js';
import type { Database, SqlExecutor } from '../server/sql/database.js';
import {
  clearReadModel,
  readRecordStatesOf,
  readUserVersions,
  writeRecordStatesOf,
  writeUserVersions,
  type RecordKey,
  type UserVersionRow,
  type VaultKeyRow,
} from './read-model.js';

const PROJECTION = 'vault-records';
const USER_STREAM = /^user-([0-9a-f-]{36})$/;

export interface ProjectorOptions {
  batchSize?: number;
  /** How often an idle projector looks for events appended by other processes. */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
  onProgress?: (progress: { applied: number; position: LogPosition }) => void;
}

/**
 * Tails the global log and builds the read model. Each batch is read and applied in the same
 * transaction that holds the checkpoint row lock, so two projectors never apply a batch twice,
 * and a replayed event (version at or below the user's stored version) changes nothing.
 */
export class Projector {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly caughtUpWaiters: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly options: ProjectorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  /** Applies one batch; returns how many events it read (0 when caught up). */
  async step(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const position = await lockCheckpoint(tx);
      const events = await readAllWith(tx, position, this.batchSize);
      if (events.length === 0) return 0;
      await applyBatch(tx, events);
      const last = events[events.length - 1]!.position;
      await tx.query(
        `UPDATE rm_checkpoints SET commit_position = $2::text::xid8, prepare_position = $3, updated_at = now() WHERE projection = $1`,
        [PROJECTION, last.commit.toString(), last.prepare.toString()],
        { name: 'keeper_checkpoint_move' },
      );
      this.options.onProgress?.({ applied: events.length, position: last });
      return events.length;
    });
  }

  /** Applies batches until the log has nothing more to give. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const applied = await this.step();
      total += applied;
      if (applied === 0) return total;
    }
  }

  /** Empties the read model and replays the whole log. */
  async rebuild(): Promise<number> {
    await this.db.transaction(async (tx) => {
      await lockCheckpoint(tx);
      await clearReadModel(tx);
    });
    return this.catchUp();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.store.onAppended(() => this.wake?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
  }

  /** Resolves once the projector has found nothing new to apply (used by tests and tools). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.caughtUpWaiters.push(resolve);
      this.wake?.();
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      // Only a pass that started after a waiter asked can tell it everything is applied.
      const waiters = this.caughtUpWaiters.splice(0);
      let applied = 0;
      let failed = false;
      try {
        applied = await this.catchUp();
      } catch (error) {
        failed = true;
        this.options.onError?.(error);
      }
      if (applied === 0 && !failed) for (const resolve of waiters) resolve();
      else this.caughtUpWaiters.unshift(...waiters);
      if (!this.running) break;
      // A waiter that arrived during the pass (when there was no sleep to cut short) needs a pass of its own now.
      if (applied > 0 || (!failed && this.caughtUpWaiters.length > 0)) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.pollIntervalMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve();
  }
}

/** Locks the checkpoint row (creating it at the start of the log if missing) and returns its position. */
async function lockCheckpoint(tx: SqlExecutor): Promise<LogPosition> {
  const lock = () =>
    tx.query<{ commit_position: string; prepare_position: string }>(
      `SELECT commit_position::text AS commit_position, prepare_position::text AS prepare_position
       FROM rm_checkpoints WHERE projection = $1 FOR UPDATE`,
      [PROJECTION],
      { name: 'keeper_checkpoint_lock' },
    );
  // The row exists but for the very first batch (or after a rebuild): one round trip then.
  let row = (await lock())[0];
  if (!row) {
    await tx.query(
      `INSERT INTO rm_checkpoints (projection, commit_position, prepare_position) VALUES ($1, $2::text::xid8, $3)
       ON CONFLICT (projection) DO NOTHING`,
      [PROJECTION, LOG_START.commit.toString(), LOG_START.prepare.toString()],
      { name: 'keeper_checkpoint_init' },
    );
    row = (await lock())[0]!;
  }
  return { commit: BigInt(row.commit_position), prepare: BigInt(row.prepare_position) };
}

/**
 * Applies a batch with a fixed number of statements whatever the number of users in it: one read
 * of the users' versions, one of the records their events touch, one upsert of the changed
 * records and one of the users' versions.
 */
async function applyBatch(tx: SqlExecutor, events: LoggedEvent[]): Promise<void> {
  const byUser = new Map<string, VaultEvent[]>();
  for (const event of events) {
    const match = USER_STREAM.exec(event.streamId);
    if (!match) continue;
    const list = byUser.get(match[1]!) ?? [];
    list.push(toVaultEvent(event));
    byUser.set(match[1]!, list);
  }
  if (byUser.size === 0) return;
  const storedVersions = await readUserVersions(tx, [...byUser.keys()]);
  const work: Array<{ userId: string; fresh: VaultEvent[]; recordEvents: RecordEvent[] }> = [];
  const keys: RecordKey[] = [];
  for (const [userId, userEvents] of byUser) {
    const stored = storedVersions.get(userId) ?? 0;
    const fresh = userEvents.filter((event) => event.version > stored).sort((a, b) => a.version - b.version);
    if (fresh.length === 0) continue;
    if (fresh[0]!.version !== stored + 1) {
      throw new Error(`read model for user ${userId} is at version ${stored} but the next event is ${fresh[0]!.version}`);
    }
    const recordEvents = fresh.filter(isRecordEvent) as RecordEvent[];
    for (const recordId of new Set(recordEvents.map((event) => event.data.recordId))) keys.push({ userId, recordId });
    work.push({ userId, fresh, recordEvents });
  }
  if (work.length === 0) return;
  const storedStates = await readRecordStatesOf(tx, keys);
  const changedRecords: Array<{ userId: string; state: RecordState }> = [];
  const versions: UserVersionRow[] = [];
  for (const { userId, fresh, recordEvents } of work) {
    const states = storedStates.get(userId) ?? new Map<string, RecordState>();
    const changed = new Map<string, RecordState>();
    for (const event of recordEvents) {
      const next = evolve(states.get(event.data.recordId), event);
      if (!next) continue;
      states.set(next.id, next);
      changed.set(next.id, next);
    }
    for (const state of changed.values()) changedRecords.push({ userId, state });
    const last = fresh[fresh.length - 1]!;
    let vaultKey: VaultKeyRow | undefined;
    for (const event of fresh) if (event.type === 'VaultKeySet') vaultKey = { keyId: event.data.keyId, envelope: event.data.envelope };
    versions.push({ userId, version: last.version, lastModifiedAt: last.metadata.at, vaultKey });
  }
  await writeRecordStatesOf(tx, changedRecords);
  await writeUserVersions(tx, versions);
}
