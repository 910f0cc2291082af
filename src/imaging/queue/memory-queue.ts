import type { Logger } from 'pino';
import { createLogger } from '../../logging.js';
import { OutageLog } from '../../lib/outage-log.js';
import { encodeResizeJob, type ResizeJob } from './job.js';
import { ConsumerLoop, ConsumerSet, type DeliverySource } from './consumer-loop.js';
import type { GivenUp, InboundDelivery } from './delivery.js';
import { JobQueueUnavailable, type ConsumeOptions, type DeadLetter, type JobConsumer, type JobHandler, type JobQueue } from './port.js';
import { queueSettings, type QueueSettings, type QueueSettingsInput } from './settings.js';

interface Lease {
  token: symbol;
  /** Infinity while a live consumer works on the message; the ack-wait deadline once abandoned. */
  until: number;
}

interface StoredMessage {
  seq: number;
  raw: Uint8Array;
  deliveries: number;
  availableAt: number;
  lease: Lease | undefined;
}

/**
 * The state of the in-process queue: queued messages, recent job ids and dead letters. It
 * outlives the MemoryJobQueue objects opened on it, the way a NATS stream outlives connections,
 * so closing a queue and opening another on the same store loses no job.
 */
export class MemoryJobStore {
  private nextSeq = 1;
  private readonly messages = new Map<number, StoredMessage>();
  /** jobId -> when it was first published, oldest first. */
  private readonly recentIds = new Map<string, number>();
  private readonly letters = new Map<number, DeadLetter>();
  private readonly waiters = new Set<() => void>();

  /** Queues a message; false when `messageId` was already queued within the window. */
  enqueue(raw: Uint8Array, messageId: string | undefined, duplicateWindowMs: number): boolean {
    const now = Date.now();
    for (const [id, at] of this.recentIds) {
      if (now - at < duplicateWindowMs) break;
      this.recentIds.delete(id);
    }
    if (messageId !== undefined) {
      if (this.recentIds.has(messageId)) return false;
      this.recentIds.set(messageId, now);
    }
    const seq = this.nextSeq++;
    this.messages.set(seq, { seq, raw: Uint8Array.from(raw), deliveries: 0, availableAt: now, lease: undefined });
    this.changed();
    return true;
  }

  /** Messages still queued (handed out or not): the work-queue backlog. */
  get size(): number {
    return this.messages.size;
  }

  deadLetters(): DeadLetter[] {
    return [...this.letters.values()];
  }

  /** Leases up to `max` messages that are due, oldest first, counting a delivery for each. */
  lease(max: number): Array<{ message: StoredMessage; token: symbol }> {
    const now = Date.now();
    const taken: Array<{ message: StoredMessage; token: symbol }> = [];
    for (const message of this.messages.values()) {
      if (taken.length >= max) break;
      if (message.availableAt > now || (message.lease && message.lease.until > now)) continue;
      const token = Symbol(`delivery of ${message.seq}`);
      message.lease = { token, until: Infinity };
      message.deliveries += 1;
      taken.push({ message, token });
    }
    return taken;
  }

  /** Settles a leased message; false when the lease is no longer `token`'s (it expired and went to another consumer). */
  settle(seq: number, token: symbol, outcome: { ack: true } | { ack: false; availableInMs: number; keepsLease?: boolean }): boolean {
    const message = this.messages.get(seq);
    if (!message || message.lease?.token !== token) return false;
    if (outcome.ack) {
      this.messages.delete(seq);
    } else if (outcome.keepsLease) {
      message.lease = { token, until: Date.now() + outcome.availableInMs };
    } else {
      message.lease = undefined;
      message.availableAt = Date.now() + outcome.availableInMs;
    }
    this.changed();
    return true;
  }

  recordDeadLetter(seq: number, letter: DeadLetter): void {
    if (!this.letters.has(seq)) this.letters.set(seq, letter);
  }

  /** Resolves when something changed or when the next leased or delayed message falls due, whichever is first. */
  async waitForWork(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const now = Date.now();
    let due = Infinity;
    for (const message of this.messages.values()) due = Math.min(due, Math.max(message.availableAt, message.lease?.until ?? 0));
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = Number.isFinite(due) ? setTimeout(done, Math.max(0, due - now)) : undefined;
      this.waiters.add(done);
      signal.addEventListener('abort', done);
    });
  }

  private changed(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

export interface MemoryJobQueueOptions {
  /** Shared state; a new store when omitted. */
  store?: MemoryJobStore;
  settings?: QueueSettingsInput;
  logger?: Logger;
}

/**
 * The in-process queue for the embedded server: the same delivery rules as the NATS adapter
 * (ack wait, bounded deliveries with backoff, dedup by jobId, dead letters), without a broker.
 * Messages are copied as bytes, so a consumer sees exactly what a NATS consumer would.
 */
export class MemoryJobQueue implements JobQueue {
  readonly store: MemoryJobStore;
  readonly settings: QueueSettings;
  private readonly logger: Logger;
  private readonly consumers = new ConsumerSet();
  private readonly pendingDeadLetters = new Map<string, GivenUp>();
  private closed = false;

  constructor(options: MemoryJobQueueOptions = {}) {
    this.store = options.store ?? new MemoryJobStore();
    this.settings = queueSettings(options.settings);
    this.logger = options.logger ?? createLogger('warn', 'keeper-imaging-queue');
  }

  async publish(job: ResizeJob): Promise<void> {
    if (this.closed) throw new JobQueueUnavailable('the in-process job queue is closed; the job was not queued');
    this.store.enqueue(encodeResizeJob(job), job.jobId, this.settings.duplicateWindowMs);
  }

  consume(handler: JobHandler, options: ConsumeOptions): JobConsumer {
    if (this.closed) throw new JobQueueUnavailable('the in-process job queue is closed; no consumer can start');
    const loop = new ConsumerLoop(this.source(), handler, options, {
      settings: this.settings,
      logger: this.logger,
      pendingDeadLetters: this.pendingDeadLetters,
      retryDelayMs: 100,
      outage: new OutageLog(this.logger, 'the in-process image job queue'),
    });
    return this.consumers.add(loop);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.consumers.abandonAll();
  }

  private source(): DeliverySource {
    const store = this.store;
    const ackWaitMs = this.settings.ackWaitMs;
    return {
      async *take(max, signal) {
        while (!signal.aborted) {
          const leased = store.lease(max);
          if (leased.length > 0) {
            for (const { message, token } of leased) yield memoryDelivery(store, message, token, ackWaitMs);
            return;
          }
          await store.waitForWork(signal);
        }
      },
    };
  }
}

function memoryDelivery(store: MemoryJobStore, message: StoredMessage, token: symbol, ackWaitMs: number): InboundDelivery {
  const seq = message.seq;
  return {
    key: String(seq),
    raw: Uint8Array.from(message.raw),
    deliveryCount: message.deliveries,
    // The lease is held for as long as the consumer lives; nothing to renew.
    touch() {},
    async ack() {
      store.settle(seq, token, { ack: true });
    },
    async retryAfter(delayMs) {
      store.settle(seq, token, { ack: false, availableInMs: delayMs });
    },
    async recordDeadLetter(letter) {
      store.recordDeadLetter(seq, letter);
    },
    release() {
      store.settle(seq, token, { ack: false, availableInMs: 0 });
    },
    abandon() {
      store.settle(seq, token, { ack: false, availableInMs: ackWaitMs, keepsLease: true });
    },
  };
}
