import pg from 'pg';
import type { Logger } from 'pino';
import { OutageLog } from '../../lib/outage-log.js';
import { WakeablePause } from '../../lib/wakeable-pause.js';

export interface PgListenerOptions {
  url: string;
  channel: string;
  /** Names the connection in pg_stat_activity (an operator can tell it from the pool's). */
  applicationName?: string;
  /** Where a lost connection is reported, once per incident. */
  logger?: Logger;
  /** The longest wait between two attempts to connect again (default 5 s). */
  maxDelayMs?: number;
  /**
   * How often the idle connection is asked a trivial query (default 30 s): a connection that died
   * without a word (a dropped network path) hears nothing, and must not pass for listening.
   */
  pingEveryMs?: number;
}

export interface PgListenerHandlers {
  notification(payload: string): void;
  /** LISTEN is in place (again): notifications sent while it was not were never heard. */
  listening(): void;
}

const CONNECT_TIMEOUT_MS = 10_000;
const FIRST_DELAY_MS = 100;
/** A connection lost sooner than this after it was made counts as one more failure in a row. */
const STABLE_AFTER_MS = 10_000;

/**
 * One connection of its own LISTENing on a channel, kept that way for as long as it runs: when it
 * is lost (pg_terminate_backend, a restart, a failover) another is made, after a wait that doubles
 * with each failure in a row. Never throws into the process; one line when it is lost, one when
 * it is back (the outage log), whatever the number of attempts between.
 */
export class PgListener {
  private closed = false;
  private loop: Promise<void> | undefined;
  private listeningNow = false;
  private readonly waitingForListen: Array<() => void> = [];
  private readonly pauses = new WakeablePause();
  private readonly whenClosed: Promise<'closed'>;
  private signalClosed!: () => void;
  private readonly outage: OutageLog | undefined;

  constructor(
    private readonly options: PgListenerOptions,
    private readonly handlers: PgListenerHandlers,
  ) {
    this.outage = options.logger ? new OutageLog(options.logger, 'the connection that hears vault changes from other servers (PostgreSQL LISTEN)') : undefined;
    this.whenClosed = new Promise((resolve) => {
      this.signalClosed = () => resolve('closed');
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves once LISTEN is in place (at once if it is). */
  ready(): Promise<void> {
    if (this.listeningNow || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waitingForListen.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.signalClosed();
    this.pauses.wake();
    for (const resolve of this.waitingForListen.splice(0)) resolve();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const client = new pg.Client({
        connectionString: this.options.url,
        application_name: this.options.applicationName ?? 'keeper-listen',
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        keepAlive: true,
      });
      // Heard from the moment the client exists: an unheard 'error' event would end the process.
      const lost = new Promise<unknown>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('Connection terminated unexpectedly')));
      });
      client.on('notification', (message) => {
        if (message.channel === this.options.channel && typeof message.payload === 'string') this.handlers.notification(message.payload);
      });
      try {
        await Promise.race([this.listenOn(client), lost.then((error) => Promise.reject(error)), this.whenClosed]);
      } catch (error) {
        void client.end().catch(() => {});
        if (this.closed) break;
        failures += 1;
        this.outage?.failed(error);
        await this.pauses.wait(backoff(failures, this.options.maxDelayMs ?? 5_000));
        continue;
      }
      if (this.closed) {
        void client.end().catch(() => {});
        break;
      }
      const since = Date.now();
      this.outage?.succeeded();
      this.listeningNow = true;
      for (const resolve of this.waitingForListen.splice(0)) resolve();
      this.handlers.listening();

      const ping = this.pinging(client);
      const why = await Promise.race([lost, this.whenClosed, ping.failed]);
      ping.stop();
      this.listeningNow = false;
      void client.end().catch(() => {});
      if (why === 'closed') break;
      this.outage?.failed(why);
      failures = Date.now() - since >= STABLE_AFTER_MS ? 1 : failures + 1;
      await this.pauses.wait(backoff(failures, this.options.maxDelayMs ?? 5_000));
    }
  }

  private async listenOn(client: pg.Client): Promise<void> {
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`);
  }

  /** A trivial query now and then; `failed` resolves with the reason when one fails or hangs. */
  private pinging(client: pg.Client): { failed: Promise<unknown>; stop(): void } {
    const every = this.options.pingEveryMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    let hung: NodeJS.Timeout | undefined;
    let report: (error: unknown) => void = () => {};
    const failed = new Promise<unknown>((resolve) => {
      report = resolve;
    });
    const ping = () => {
      hung = setTimeout(() => report(new Error(`the connection did not answer within ${every} ms`)), every);
      client.query('SELECT 1').then(
        () => {
          clearTimeout(hung);
          timer = setTimeout(ping, every);
          timer.unref();
        },
        (error: unknown) => {
          clearTimeout(hung);
          report(error);
        },
      );
      hung.unref();
    };
    timer = setTimeout(ping, every);
    timer.unref();
    return {
      failed,
      stop: () => {
        clearTimeout(timer);
        clearTimeout(hung);
      },
    };
  }
}

/** 100 ms doubling up to `most`, each wait jittered down to half so servers cut off together do not come back together. */
function backoff(failures: number, most: number): number {
  const ceiling = Math.min(most, FIRST_DELAY_MS * 2 ** Math.min(failures - 1, 20));
  return ceiling * (0.5 + Math.random() * 0.5);
}
