import type { Logger } from 'pino';
import { decodeResizeJob, type ResizeJob } from './job.js';
import { PermanentJobError, type DeadLetter, type DeadLetterHandler, type DeadLetterKind, type JobHandler } from './port.js';
import { backoffDelay, type QueueSettings } from './settings.js';

/** One message as an adapter hands it out, with the broker's operations on it. */
export interface InboundDelivery {
  /** Names the message in its queue while it is queued (the stream sequence). */
  key: string;
  raw: Uint8Array;
  /** How many times the message has been handed out, this time included. */
  deliveryCount: number;
  /** Tells the broker the handler is still working, so the ack wait starts again. */
  touch(): void;
  ack(): Promise<void>;
  /** Hands the message out again no sooner than `delayMs` from now. */
  retryAfter(delayMs: number): Promise<void>;
  /** Writes the operators' dead-letter record; a second call for the same key adds nothing. */
  recordDeadLetter(letter: DeadLetter): Promise<void>;
  /** Gives an unprocessed message back at once (it was taken while the consumer stopped). */
  release(): void;
  /** Lets go of a message mid-job: the broker hands it out again after the ack wait. */
  abandon(): void;
}

export interface DeliveryContext {
  handler: JobHandler;
  onDeadLetter: DeadLetterHandler;
  settings: QueueSettings;
  logger: Logger;
  /**
   * Why a message was given up on, by key, while its onDeadLetter has not succeeded yet, so the
   * retry reports the original reason instead of running the job again. Shared by the consumers
   * of one queue; lost on restart, when the next delivery simply starts over.
   */
  pendingDeadLetters: Map<string, GivenUp>;
  /** Aborted when the consumer abandons this delivery: nothing may be acknowledged after that. */
  abandoned: AbortSignal;
}

export interface GivenUp {
  reason: string;
  kind: DeadLetterKind;
}

/** Handles one delivery from decoding to ack, retry or dead letter. Never throws. */
export async function processDelivery(delivery: InboundDelivery, context: DeliveryContext): Promise<void> {
  const { settings, logger } = context;
  const attempt = delivery.deliveryCount;
  const decoded = decodeResizeJob(delivery.raw);
  if (!decoded.ok) {
    return deadLetter(delivery, context, undefined, { reason: decoded.reason, kind: 'malformed' }, Math.min(attempt, settings.maxDeliveries));
  }
  const job = decoded.job;
  const pending = context.pendingDeadLetters.get(delivery.key);
  if (pending !== undefined) return deadLetter(delivery, context, job, pending, Math.min(attempt, settings.maxDeliveries));
  if (attempt > settings.maxDeliveries) {
    // The last attempt never reported back: its consumer stopped or crashed mid-job.
    const reason = `the job was abandoned on its last attempt (${settings.maxDeliveries} of ${settings.maxDeliveries}) by a worker that stopped or crashed`;
    return deadLetter(delivery, context, job, { reason, kind: 'exhausted' }, settings.maxDeliveries);
  }

  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await whileTouching(delivery, context, () => context.handler(job, { attempt }));
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  if (context.abandoned.aborted) return;

  if (outcome.ok) {
    await settle(delivery, context, () => delivery.ack(), 'acknowledge');
    return;
  }
  const message = errorMessage(outcome.error);
  if (outcome.error instanceof PermanentJobError) {
    return deadLetter(delivery, context, job, { reason: message, kind: 'permanent' }, attempt);
  }
  if (attempt >= settings.maxDeliveries) {
    return deadLetter(delivery, context, job, { reason: `failed ${attempt} times; the last error: ${message}`, kind: 'exhausted' }, attempt);
  }
  const delayMs = backoffDelay(settings, attempt);
  logger.warn({ jobId: job.jobId, imageId: job.imageId, attempt, retryInMs: delayMs, err: outcome.error }, 'resize job failed; it will be retried');
  await settle(delivery, context, () => delivery.retryAfter(delayMs), 'schedule the retry of');
}

async function deadLetter(
  delivery: InboundDelivery,
  context: DeliveryContext,
  job: ResizeJob | undefined,
  cause: GivenUp,
  attempts: number,
): Promise<void> {
  const { settings, logger } = context;
  const { reason, kind } = cause;
  context.pendingDeadLetters.set(delivery.key, cause);
  const fields = { jobId: job?.jobId, imageId: job?.imageId, attempts, kind, reason };
  try {
    // The operators' record first: it survives even when onDeadLetter keeps failing.
    await delivery.recordDeadLetter({ job, raw: delivery.raw, reason, attempts, kind, at: new Date() });
    await whileTouching(delivery, context, () => context.onDeadLetter(job, delivery.raw, reason, attempts, kind));
  } catch (error) {
    if (context.abandoned.aborted) return;
    if (delivery.deliveryCount >= settings.maxDeliveries + settings.deadLetterAttempts) {
      logger.error({ ...fields, err: error }, 'could not finish dead-lettering a resize job; dropping it (its dead-letter record may be missing too)');
      context.pendingDeadLetters.delete(delivery.key);
      await settle(delivery, context, () => delivery.ack(), 'drop');
      return;
    }
    const delayMs = backoffDelay(settings, delivery.deliveryCount);
    logger.warn({ ...fields, retryInMs: delayMs, err: error }, 'could not dead-letter a resize job; it will be tried again');
    await settle(delivery, context, () => delivery.retryAfter(delayMs), 'schedule the dead-lettering of');
    return;
  }
  if (context.abandoned.aborted) return;
  context.pendingDeadLetters.delete(delivery.key);
  logger.warn(fields, 'resize job dead-lettered');
  await settle(delivery, context, () => delivery.ack(), 'acknowledge the dead letter of');
}

/** Runs `work`, telling the broker every half ack wait that the job is alive, until it settles or is abandoned. */
async function whileTouching<T>(delivery: InboundDelivery, context: DeliveryContext, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => delivery.touch(), Math.max(50, Math.floor(context.settings.ackWaitMs / 2)));
  // An abandoned handler may never settle: its pings stop with the abandonment, not with it.
  const stop = () => clearInterval(timer);
  context.abandoned.addEventListener('abort', stop, { once: true });
  try {
    return await work();
  } finally {
    stop();
    context.abandoned.removeEventListener('abort', stop);
  }
}

/** A failed ack or nak only means the broker redelivers the job later; the handlers are idempotent. */
async function settle(delivery: InboundDelivery, context: DeliveryContext, action: () => Promise<void>, what: string): Promise<void> {
  if (context.abandoned.aborted) return;
  try {
    await action();
  } catch (error) {
    context.logger.warn({ key: delivery.key, err: error }, `could not ${what} a resize job; it will be delivered again`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
