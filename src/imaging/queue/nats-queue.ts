import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiError, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { createLogger } from '../../logging.js';
import { OutageLog } from '../../lib/outage-log.js';
import { decodeResizeJob, encodeResizeJob, type ResizeJob } from './job.js';
import { ConsumerLoop, ConsumerSet, type DeliverySource } from './consumer-loop.js';
import { errorMessage, type GivenUp, type InboundDelivery } from './delivery.js';
import { DEFAULT_NATS_NAMES, ensureTopology, type NatsNames } from './nats-topology.js';
import { JobQueueUnavailable, type ConsumeOptions, type DeadLetter, type DeadLetterKind, type JobConsumer, type JobHandler, type JobQueue } from './port.js';
import { queueSettings, type QueueSettings, type QueueSettingsInput } from './settings.js';

export interface NatsJobQueueOptions {
  /** nats://host:port (credentials in the URL are never logged). */
  url: string;
  names?: Partial<NatsNames>;
  settings?: QueueSettingsInput;
  /** How long dead letters are kept (default 30 days). */
  deadLetterMaxAgeMs?: number;
  /** Per connection attempt (default 5 s). */
  connectTimeoutMs?: number;
  /** Wait for the stream's acknowledgement of a publish (default 5 s). */
  publishTimeoutMs?: number;
  /** Between reconnection attempts once connected (default 1 s). */
  reconnectWaitMs?: number;
  /** How long one pull waits for jobs before asking again (default 5 s; NATS wants at least 1 s). */
  fetchExpiresMs?: number;
  /** Pause after a consumer could not reach NATS (default 1 s). */
  retryDelayMs?: number;
  logger?: Logger;
}

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** False between a disconnect and the reconnect: publishing then fails at once instead of buffering. */
  online: boolean;
  consumer: Consumer | undefined;
}

const HEADER_REASON = 'Keeper-Dead-Reason';
const HEADER_ATTEMPTS = 'Keeper-Dead-Attempts';
const HEADER_AT = 'Keeper-Dead-At';
const HEADER_KIND = 'Keeper-Dead-Kind';
const DEAD_LETTER_KINDS: readonly DeadLetterKind[] = ['permanent', 'exhausted', 'malformed'];

/**
 * Resize jobs on NATS JetStream: a work-queue stream (publish deduplicated by jobId), one
 * durable pull consumer with explicit acks shared by every worker, redelivery with backoff
 * (nak with a delay), and a limits stream of dead letters.
 *
 * The connection is made on first use and remade after the server restarts, so a queue can be
 * created while NATS is down: publish then rejects with JobQueueUnavailable and consumers wait.
 */
export class NatsJobQueue implements JobQueue {
  readonly names: NatsNames;
  readonly settings: QueueSettings;
  private readonly url: string;
  private readonly safeUrl: string;
  private readonly logger: Logger;
  private readonly deadLetterMaxAgeMs: number;
  private readonly connectTimeoutMs: number;
  private readonly publishTimeoutMs: number;
  private readonly reconnectWaitMs: number;
  private readonly fetchExpiresMs: number;
  private readonly retryDelayMs: number;
  private readonly consumers = new ConsumerSet();
  private readonly pendingDeadLetters = new Map<string, GivenUp>();
  /** One for the relay's publishes, the consumers' pulls and the connection's own news alike. */
  private readonly outage: OutageLog;
  private connection: Promise<Connection> | undefined;
  private closed = false;

  constructor(options: NatsJobQueueOptions) {
    this.url = options.url;
    this.safeUrl = redactUrl(options.url);
    this.names = { ...DEFAULT_NATS_NAMES, ...options.names };
    this.settings = queueSettings(options.settings);
    this.logger = options.logger ?? createLogger('warn', 'keeper-imaging-queue');
    this.deadLetterMaxAgeMs = options.deadLetterMaxAgeMs ?? 30 * 24 * 3600_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.reconnectWaitMs = options.reconnectWaitMs ?? 1_000;
    this.fetchExpiresMs = Math.max(1_000, options.fetchExpiresMs ?? 5_000);
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.outage = new OutageLog(this.logger, `the image job queue (NATS at ${this.safeUrl})`);
  }

  /** Connects and sets up the streams now rather than on first use; rejects with JobQueueUnavailable. */
  async connect(): Promise<void> {
    await this.connected();
  }

  async publish(job: ResizeJob): Promise<void> {
    try {
      await this.publishOnce(job);
      this.outage.succeeded();
    } catch (error) {
      if (error instanceof JobQueueUnavailable) this.outage.failed(error);
      throw error;
    }
  }

  private async publishOnce(job: ResizeJob): Promise<void> {
    const payload = encodeResizeJob(job);
    const connection = await this.connected();
    try {
      await this.publishOn(connection, payload, job.jobId);
    } catch (first) {
      if (!connection.online) throw this.unavailable('the job was not published', first);
      // A server restarted without its storage has no stream: set it up again and retry once.
      try {
        await ensureTopology(connection.jsm, this.topologyOptions());
        await this.publishOn(connection, payload, job.jobId);
      } catch (second) {
        throw this.unavailable('the job was not published', second);
      }
    }
  }

  consume(handler: JobHandler, options: ConsumeOptions): JobConsumer {
    if (this.closed) throw new JobQueueUnavailable('the NATS job queue is closed; no consumer can start');
    const loop = new ConsumerLoop(this.source(), handler, options, {
      settings: this.settings,
      logger: this.logger,
      pendingDeadLetters: this.pendingDeadLetters,
      retryDelayMs: this.retryDelayMs,
      outage: this.outage,
    });
    return this.consumers.add(loop);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.consumers.abandonAll();
    const connection = await this.connection?.catch(() => undefined);
    this.connection = undefined;
    await connection?.nc.close();
  }

  /** The dead letters kept in the dead-letter stream, oldest first, at most `limit`. */
  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    const connection = await this.connected();
    const { state } = await connection.jsm.streams.info(this.names.deadLetterStream);
    const letters: DeadLetter[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && letters.length < limit; seq++) {
      const stored = await connection.jsm.streams.getMessage(this.names.deadLetterStream, { seq }).catch((error: unknown) => {
        if (error instanceof JetStreamApiError) return null; // deleted from the middle of the stream
        throw error;
      });
      if (!stored) continue;
      const decoded = decodeResizeJob(stored.data);
      letters.push({
        job: decoded.ok ? decoded.job : undefined,
        raw: stored.data,
        reason: stored.header.get(HEADER_REASON),
        attempts: Number(stored.header.get(HEADER_ATTEMPTS)),
        kind: DEAD_LETTER_KINDS.find((kind) => kind === stored.header.get(HEADER_KIND)) ?? (decoded.ok ? 'exhausted' : 'malformed'),
        at: new Date(stored.header.get(HEADER_AT) || stored.time),
      });
    }
    return letters;
  }

  private async publishOn(connection: Connection, payload: Uint8Array, msgID: string): Promise<void> {
    if (!connection.online) throw new Error('the connection is down and being re-established');
    await connection.js.publish(this.names.subject, payload, { msgID, timeout: this.publishTimeoutMs });
  }

  private connected(): Promise<Connection> {
    if (this.closed) return Promise.reject(new JobQueueUnavailable('the NATS job queue is closed'));
    if (!this.connection) {
      const opening = this.open();
      this.connection = opening;
      opening.catch(() => {
        if (this.connection === opening) this.connection = undefined;
      });
    }
    return this.connection;
  }

  private async open(): Promise<Connection> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.url,
        name: 'keeper-imaging-queue',
        timeout: this.connectTimeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.reconnectWaitMs,
      });
    } catch (error) {
      throw this.unavailable('cannot connect', error);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: this.publishTimeoutMs });
      const connection: Connection = { nc, js: jetstream(nc, { timeout: this.publishTimeoutMs }), jsm, online: true, consumer: undefined };
      await ensureTopology(jsm, this.topologyOptions());
      void this.watch(connection);
      return connection;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw this.unavailable('JetStream is not usable there', error);
    }
  }

  /** Follows the connection's state; after a reconnect the server may be a fresh one, so the streams are checked again. */
  private async watch(connection: Connection): Promise<void> {
    for await (const status of connection.nc.status()) {
      if (status.type === 'disconnect') {
        connection.online = false;
        this.outage.failed(new Error('lost the connection; reconnecting'));
      } else if (status.type === 'reconnect') {
        connection.online = true;
        connection.consumer = undefined;
        this.outage.succeeded();
        await ensureTopology(connection.jsm, this.topologyOptions()).catch((error: unknown) =>
          this.logger.warn({ err: error }, 'could not check the NATS streams after reconnecting'),
        );
      }
    }
  }

  private topologyOptions() {
    return { names: this.names, settings: this.settings, deadLetterMaxAgeMs: this.deadLetterMaxAgeMs };
  }

  private unavailable(what: string, cause: unknown): JobQueueUnavailable {
    return new JobQueueUnavailable(`NATS at ${this.safeUrl} is unavailable (${errorMessage(cause)}); ${what}`, { cause });
  }

  private source(): DeliverySource {
    const queue = this;
    return {
      async *take(max, signal) {
        const connection = await untilAborted(queue.connected(), signal);
        if (!connection) return;
        if (!connection.online) throw new JobQueueUnavailable(`NATS at ${queue.safeUrl} is unreachable; reconnecting`);
        const consumer = await queue.pullConsumer(connection);
        const batch = await consumer.fetch({ max_messages: max, expires: queue.fetchExpiresMs });
        const stop = () => batch.stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const msg of batch) yield queue.delivery(connection, msg);
        } catch (error) {
          // A pull that fails while connected (missed heartbeats) usually means the consumer or
          // the stream is gone, deleted by an operator: make them again before the next pull.
          connection.consumer = undefined;
          if (connection.online) await ensureTopology(connection.jsm, queue.topologyOptions()).catch(() => undefined);
          throw error;
        } finally {
          signal.removeEventListener('abort', stop);
        }
      },
    };
  }

  private async pullConsumer(connection: Connection): Promise<Consumer> {
    if (connection.consumer) return connection.consumer;
    try {
      connection.consumer = await connection.js.consumers.get(this.names.stream, this.names.consumer);
    } catch (error) {
      if (!(error instanceof JetStreamApiError)) throw error;
      // Stream or consumer missing (a server that lost its storage, an operator's delete): recreate them.
      await ensureTopology(connection.jsm, this.topologyOptions());
      connection.consumer = await connection.js.consumers.get(this.names.stream, this.names.consumer);
    }
    return connection.consumer;
  }

  private delivery(connection: Connection, msg: JsMsg): InboundDelivery {
    const { names, publishTimeoutMs } = this;
    return {
      key: String(msg.seq),
      raw: msg.data,
      deliveryCount: msg.info.deliveryCount,
      touch: () => msg.working(),
      async ack() {
        if (!(await msg.ackAck({ timeout: publishTimeoutMs }))) throw new Error('NATS did not confirm the acknowledgement');
      },
      async retryAfter(delayMs) {
        msg.nak(delayMs);
      },
      async recordDeadLetter(letter) {
        const h = headers();
        h.set(HEADER_REASON, headerValue(letter.reason));
        h.set(HEADER_ATTEMPTS, String(letter.attempts));
        h.set(HEADER_AT, letter.at.toISOString());
        h.set(HEADER_KIND, letter.kind);
        // Deduplicated by the job's place in its stream, so a retried dead-lettering adds nothing.
        await connection.js.publish(names.deadLetterSubject, msg.data, { msgID: `${names.stream}:${msg.seq}`, headers: h, timeout: publishTimeoutMs });
      },
      release: () => msg.nak(),
      // Nothing to send: without the working() pings the server redelivers after the ack wait.
      abandon() {},
    };
  }
}

/** Header values are one line; reasons are short sentences anyway. */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1000);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//[redacted]@');
}

async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
