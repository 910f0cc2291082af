import { evolve, type RecordState } from '../domain/decider.js';
import { isRecordEvent, toVaultEvent, type ImageEvent, type RecordEvent, type VaultEvent } from '../domain/events.js';
import { userIdOfStream } from '../domain/vault-state.js';
import { evolveImage, isImageEvent, type ImageState } from '../domain/images.js';
import { lockCheckpoint, moveCheckpoint, readCheckpoint, samePosition } from '../server/eventstore/checkpoints.js';
import { HELD_BACK, PollingLoop } from '../lib/polling-loop.js';
import type { EventStore, LoggedEvent, LogPosition } from '../server/eventstore/port.js';
import type { Database, SqlExecutor } from '../server/sql/database.js';
import {
  clearReadModel,
  READ_MODEL_CHECKPOINT,
  readImageStatesOf,
  readRecordStatesOf,
  readUserVersions,
  writeImageStatesOf,
  writeRecordStatesOf,
  writeUserVersions,
  type ImageKey,
  type RecordKey,
  type UserVersionRow,
  type VaultKeyRow,
} from '../read-model/read-model.js';

export interface ProjectorOptions {
  batchSize?: number;
  /** How often an idle projector looks for events appended by other processes. */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
  onProgress?: (progress: { applied: number; position: LogPosition }) => void;
}

/**
 * Tails the global log through the event store port and builds the read model. A batch is read
 * from where the checkpoint stands, then applied in a transaction that locks the checkpoint row
 * and finds it still there (another projector that got there first makes this one drop its batch
 * and read again), so two projectors never apply a batch twice; and a replayed event (version at
 * or below the user's stored version) changes nothing.
 */
export class Projector {
  private readonly batchSize: number;
  private readonly loop: PollingLoop;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly options: ProjectorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.loop = new PollingLoop(() => this.tail(), options.pollIntervalMs ?? 250, (error) => this.options.onError?.(error));
  }

  /** Applies one batch; returns how many events it read (0 when caught up). */
  async step(): Promise<number> {
    for (;;) {
      const position = await readCheckpoint(this.db, READ_MODEL_CHECKPOINT);
      const events = await this.store.readAll(position, this.batchSize);
      if (events.length === 0) return 0;
      const last = events[events.length - 1]!.position;
      const applied = await this.db.transaction(async (tx) => {
        if (!samePosition(await lockCheckpoint(tx, READ_MODEL_CHECKPOINT), position)) return false;
        await applyBatch(tx, events);
        await moveCheckpoint(tx, READ_MODEL_CHECKPOINT, last);
        return true;
      });
      if (applied) {
        this.options.onProgress?.({ applied: events.length, position: last });
        return events.length;
      }
      // Another projector applied this batch first: read on from where it left the checkpoint.
    }
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

  /** The running loop's pass: caught up only when no committed event waits behind another transaction. */
  private async tail(): Promise<number> {
    const applied = await this.catchUp();
    if (applied > 0) return applied;
    return (await this.store.heldBackAfter(await readCheckpoint(this.db, READ_MODEL_CHECKPOINT))) ? HELD_BACK : 0;
  }

  /** Empties the read model and replays the whole log. */
  async rebuild(): Promise<number> {
    await this.db.transaction(async (tx) => {
      await lockCheckpoint(tx, READ_MODEL_CHECKPOINT);
      await clearReadModel(tx);
    });
    return this.catchUp();
  }

  start(): void {
    this.unsubscribe ??= this.store.onAppended(() => this.loop.poke());
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.loop.stop();
  }

  /** Resolves once the projector has found nothing new to apply (at once when it is not running). */
  idle(): Promise<void> {
    return this.loop.idle();
  }
}

/**
 * Applies a batch with a fixed number of statements whatever the number of users in it: one read
 * of the users' versions, one of the records their events touch, one upsert of the changed
 * records and one of the users' versions.
 */
async function applyBatch(tx: SqlExecutor, events: LoggedEvent[]): Promise<void> {
  const byUser = new Map<string, VaultEvent[]>();
  for (const event of events) {
    const userId = userIdOfStream(event.streamId);
    if (!userId) continue;
    const list = byUser.get(userId) ?? [];
    list.push(toVaultEvent(event));
    byUser.set(userId, list);
  }
  if (byUser.size === 0) return;
  const storedVersions = await readUserVersions(tx, [...byUser.keys()]);
  const work: Array<{ userId: string; fresh: VaultEvent[]; recordEvents: RecordEvent[]; imageEvents: ImageEvent[] }> = [];
  const keys: RecordKey[] = [];
  const imageKeys: ImageKey[] = [];
  for (const [userId, userEvents] of byUser) {
    const stored = storedVersions.get(userId) ?? 0;
    const fresh = userEvents.filter((event) => event.version > stored).sort((a, b) => a.version - b.version);
    if (fresh.length === 0) continue;
    if (fresh[0]!.version !== stored + 1) {
      throw new Error(`read model for user ${userId} is at version ${stored} but the next event is ${fresh[0]!.version}`);
    }
    const recordEvents = fresh.filter(isRecordEvent) as RecordEvent[];
    for (const recordId of new Set(recordEvents.map((event) => event.data.recordId))) keys.push({ userId, recordId });
    const imageEvents = fresh.filter(isImageEvent) as ImageEvent[];
    for (const imageId of new Set(imageEvents.map((event) => event.data.imageId))) imageKeys.push({ userId, imageId });
    work.push({ userId, fresh, recordEvents, imageEvents });
  }
  if (work.length === 0) return;
  const storedStates = await readRecordStatesOf(tx, keys);
  const storedImages = await readImageStatesOf(tx, imageKeys);
  const changedImages: Array<{ userId: string; state: ImageState }> = [];
  const changedRecords: Array<{ userId: string; state: RecordState }> = [];
  const versions: UserVersionRow[] = [];
  for (const { userId, fresh, recordEvents, imageEvents } of work) {
    const images = storedImages.get(userId) ?? new Map<string, ImageState>();
    const changedOfUser = new Map<string, ImageState>();
    for (const event of imageEvents) {
      const next = evolveImage(images.get(event.data.imageId), event);
      if (!next) continue;
      images.set(next.id, next);
      changedOfUser.set(next.id, next);
    }
    for (const state of changedOfUser.values()) changedImages.push({ userId, state });
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
  await writeImageStatesOf(tx, changedImages);
  await writeUserVersions(tx, versions);
}
