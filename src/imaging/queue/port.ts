import type { ResizeJob } from './job.js';

/**
 * The resize job queue. Two adapters keep the same semantics: NATS JetStream (nats-queue.ts) for
 * separate processes, and an in-process queue (memory-queue.ts) for the embedded `keeper up`.
 *
 * Delivery is at least once: a job is handed to a handler until one resolves, and may reach a
 * handler again after a crash, so handlers must be idempotent.
 */
export interface JobQueue {
  /**
   * Queues a job. Publishing the same jobId again within the queue's duplicate window is a
   * no-op, so a producer may retry freely. Rejects with JobQueueUnavailable when the broker
   * cannot take it now (the outbox relay keeps the job and retries).
   */
  publish(job: ResizeJob): Promise<void>;
  /** Starts handing jobs to `handler`, at most `options.concurrency` at a time. */
  consume(handler: JobHandler, options: ConsumeOptions): JobConsumer;
  /**
   * Stops every consumer of this queue without waiting for running jobs (they are redelivered
   * after the ack wait, as if this process had died) and lets go of the broker. Call
   * consumer.stop() first for a graceful drain.
   */
  close(): Promise<void>;
}

export interface Delivery {
  /** 1 on the first delivery of a job, 2 on the first redelivery, and so on. */
  attempt: number;
}

/** Resolve = done (acknowledged). Throw = try again later with backoff. Throw PermanentJobError = give up now. */
export type JobHandler = (job: ResizeJob, delivery: Delivery) => Promise<void>;

/**
 * Why a job was given up on: the handler threw PermanentJobError, its deliveries ran out (the
 * last attempts failed or were abandoned by a crashed worker), or the message is no valid job.
 */
export type DeadLetterKind = 'permanent' | 'exhausted' | 'malformed';

/**
 * Called once a job is given up on (`job` is undefined for a malformed message; `raw` holds what
 * arrived). `reason` is the PermanentJobError's message for a permanent failure, otherwise a
 * sentence for operators naming the last error. A rejection is retried on a later delivery, so
 * this must be idempotent too.
 */
export type DeadLetterHandler = (job: ResizeJob | undefined, raw: Uint8Array, reason: string, attempts: number, kind: DeadLetterKind) => Promise<void>;

export interface ConsumeOptions {
  concurrency: number;
  onDeadLetter: DeadLetterHandler;
}

export interface StopOptions {
  /**
   * How long to wait for running jobs (default: as long as they take). Jobs still running then
   * are abandoned: their outcome is ignored and the queue redelivers them after the ack wait.
   */
  graceMs?: number;
}

export interface JobConsumer {
  /** Takes no new jobs, then waits for the running ones (see StopOptions.graceMs). */
  stop(options?: StopOptions): Promise<void>;
}

/** A failure that retrying cannot fix (a corrupt image, a missing original): the job goes to the dead letters at once. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** The broker cannot take or hand out jobs right now; the caller should try again later. */
export class JobQueueUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobQueueUnavailable';
  }
}

/** What a queue keeps of a job it gave up on, for operators. */
export interface DeadLetter {
  /** The job, or undefined when the message was not a valid job. */
  job: ResizeJob | undefined;
  raw: Uint8Array;
  reason: string;
  attempts: number;
  kind: DeadLetterKind;
  at: Date;
}
