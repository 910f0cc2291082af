import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { processDelivery, type GivenUp, type InboundDelivery } from './delivery.js';
import type { ConsumeOptions, JobConsumer, JobHandler, StopOptions } from './port.js';
import type { QueueSettings } from './settings.js';
import type { OutageLog } from '../../lib/outage-log.js';

/** Where a consumer takes its messages from: the part of a queue adapter that differs. */
export interface DeliverySource {
  /**
   * Yields at most `max` deliveries as they arrive. It may end early (nothing arrived for a
   * while) and must end soon after `signal` aborts. Throwing makes the consumer wait and ask again.
   */
  take(max: number, signal: AbortSignal): AsyncIterable<InboundDelivery>;
}

export interface ConsumerLoopOptions {
  settings: QueueSettings;
  logger: Logger;
  pendingDeadLetters: Map<string, GivenUp>;
  /** Pause after take() failed (the broker is unreachable, say) before asking again. */
  retryDelayMs: number;
  /** The queue's outage log: a failed take() counts there instead of logging a line of its own. */
  outage: OutageLog;
}

interface Running {
  delivery: InboundDelivery;
  abandoned: AbortController;
  done: Promise<void>;
}

/** Runs up to `concurrency` handlers at once over a DeliverySource; shared by both adapters. */
export class ConsumerLoop implements JobConsumer {
  private readonly stopping = new AbortController();
  private readonly running = new Set<Running>();
  private wakeSlot: (() => void) | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly source: DeliverySource,
    private readonly handler: JobHandler,
    private readonly options: ConsumeOptions,
    private readonly loopOptions: ConsumerLoopOptions,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number of at least 1, not ${options.concurrency}`);
    }
    this.loop = this.run();
  }

  async stop(options: StopOptions = {}): Promise<void> {
    this.stopping.abort();
    this.wakeSlot?.();
    await this.loop;
    const drained = Promise.all([...this.running].map((entry) => entry.done)).then(() => true);
    const graceOver = new AbortController();
    const grace = options.graceMs === undefined ? [] : [sleep(options.graceMs, false, { signal: graceOver.signal }).catch(() => false)];
    const finished = await Promise.race([drained, ...grace]);
    graceOver.abort();
    if (finished) return;
    for (const entry of this.running) {
      entry.abandoned.abort();
      entry.delivery.abandon();
    }
    this.loopOptions.logger.warn({ abandoned: this.running.size }, 'consumer stopped with jobs still running; they will be delivered again');
    this.running.clear();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const free = this.options.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wakeSlot = resolve));
        this.wakeSlot = undefined;
        continue;
      }
      try {
        for await (const delivery of this.source.take(free, signal)) {
          if (signal.aborted) delivery.release();
          else this.start(delivery);
        }
        this.loopOptions.outage.succeeded();
      } catch (error) {
        if (signal.aborted) break;
        this.loopOptions.outage.failed(error);
        await sleep(this.loopOptions.retryDelayMs, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private start(delivery: InboundDelivery): void {
    const abandoned = new AbortController();
    const entry: Running = {
      delivery,
      abandoned,
      done: processDelivery(delivery, {
        handler: this.handler,
        onDeadLetter: this.options.onDeadLetter,
        settings: this.loopOptions.settings,
        logger: this.loopOptions.logger,
        pendingDeadLetters: this.loopOptions.pendingDeadLetters,
        abandoned: abandoned.signal,
      })
        .catch((error: unknown) => this.loopOptions.logger.error({ err: error }, 'resize job delivery failed unexpectedly'))
        .finally(() => {
          this.running.delete(entry);
          this.wakeSlot?.();
        }),
    };
    this.running.add(entry);
  }
}

/** The consumers a queue started, so that closing the queue can stop them all at once. */
export class ConsumerSet {
  private readonly loops = new Set<ConsumerLoop>();

  /** Tracks a started loop; its JobConsumer forgets it once stopped. */
  add(loop: ConsumerLoop): JobConsumer {
    this.loops.add(loop);
    return {
      stop: async (stopOptions) => {
        await loop.stop(stopOptions);
        this.loops.delete(loop);
      },
    };
  }

  /** Stops every consumer without waiting for running jobs: they are redelivered after the ack wait. */
  async abandonAll(): Promise<void> {
    await Promise.all([...this.loops].map((loop) => loop.stop({ graceMs: 0 })));
    this.loops.clear();
  }
}
