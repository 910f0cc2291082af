import { derivedId } from '../../lib/derived-id.js';
import { userIdOfStream } from '../../domain/vault-state.js';
import type { ResizeJob } from '../../imaging/queue/job.js';
import type { JobQueue } from '../../imaging/queue/port.js';
import { PollingLoop } from '../../lib/polling-loop.js';
import type { EventStore, LoggedEvent } from '../eventstore/port.js';
import { lockCheckpoint, moveCheckpoint, readCheckpoint, samePosition } from '../eventstore/checkpoints.js';
import type { Database } from '../sql/database.js';

const CHECKPOINT = 'image-jobs';
/** The only events whose payload the relay reads; it passes over the rest by position. */
const JOB_EVENT_TYPES = ['ImageAttached'];

export interface JobRelayOptions {
  batchSize?: number;
  /** How often an idle relay looks for new uploads, and how long it waits after a failed publish. */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
  /** After a pass that worked, failed or not before. */
  onSuccess?: () => void;
}

/**
 * The outbox relay. An accepted upload's ImageAttached event is its resize job, written in the same
 * append, so no job can be lost between the database and NATS: the relay tails the log from its
 * own checkpoint and publishes a job per attached image, moving the checkpoint only after the
 * queue took the whole batch. When the queue is down the checkpoint stays and the batch is
 * published again later; a publish repeated after a crash is dropped by the queue's dedup (the job
 * id is derived from the image) and the worker is idempotent anyway.
 */
export class JobRelay {
  private readonly batchSize: number;
  private readonly loop: PollingLoop;

  constructor(
    /** Where the relay's checkpoint is kept (the read model's database). */
    private readonly db: Database,
    private readonly store: EventStore,
    private readonly queue: JobQueue,
    private readonly options: JobRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.loop = new PollingLoop(
      () => this.catchUp(),
      options.pollIntervalMs ?? 250,
      (error) => this.options.onError?.(error),
      () => this.options.onSuccess?.(),
    );
  }

  /** Publishes the jobs of one batch of the log; returns how many events it read (0 when caught up). */
  async step(): Promise<number> {
    const position = await readCheckpoint(this.db, CHECKPOINT);
    const events = await this.store.readAll(position, this.batchSize, { types: JOB_EVENT_TYPES });
    if (events.length === 0) return 0;
    for (const job of jobsIn(events)) await this.queue.publish(job);
    const last = events[events.length - 1]!.position;
    // Another relay that moved the row meanwhile published these jobs too (the queue drops the repeats).
    await this.db.transaction(async (tx) => {
      if (samePosition(await lockCheckpoint(tx, CHECKPOINT), position)) await moveCheckpoint(tx, CHECKPOINT, last);
    });
    return events.length;
  }

  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const read = await this.step();
      total += read;
      if (read === 0) return total;
    }
  }

  start(): void {
    this.loop.start();
  }

  /** Makes an idle relay look now (after an upload in this process). */
  poke(): void {
    this.loop.poke();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Resolves once every job appended so far has been queued. */
  idle(): Promise<void> {
    return this.loop.idle();
  }
}

/** The resize jobs a batch of the log asks for: one per image attached in the clear. */
export function jobsIn(events: readonly LoggedEvent[]): ResizeJob[] {
  const jobs: ResizeJob[] = [];
  for (const event of events) {
    if (event.type !== 'ImageAttached') continue;
    const userId = userIdOfStream(event.streamId);
    const data = event.data as { imageId?: string; encrypted?: boolean; original?: { address?: string; type?: string } };
    // A sealed image is ciphertext to the server: only its client can make its cover.
    if (!userId || data.encrypted || !data.imageId || !data.original?.address || !data.original.type) continue;
    jobs.push({ jobId: derivedId(`resize:${userId}:${data.imageId}`), userId, imageId: data.imageId, original: data.original.address, type: data.original.type });
  }
  return jobs;
}
