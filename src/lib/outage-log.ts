import type { Logger } from 'pino';

export interface OutageLogOptions {
  /** While down, one line with the count of failed attempts this often (default a minute). */
  summaryEveryMs?: number;
  now?: () => number;
}

/**
 * Logs an outage of something retried in a loop (the job queue while NATS is down) as a few
 * lines instead of one per attempt: one when it goes away, with the reason in a sentence and no
 * stack; a count of failed attempts now and then while it stays away; one when it is back.
 * Every retrying caller of the same thing reports to one OutageLog, so a second caller adds to the
 * count instead of its own line.
 */
export class OutageLog {
  private downSince: number | undefined;
  private failures = 0;
  private lastLine = 0;
  private readonly summaryEveryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: Logger,
    /** What is down, as a sentence's subject: "the image job queue (NATS at nats://...)". */
    private readonly what: string,
    options: OutageLogOptions = {},
  ) {
    this.summaryEveryMs = options.summaryEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** An attempt failed. */
  failed(error: unknown): void {
    const now = this.now();
    this.failures += 1;
    if (this.downSince === undefined) {
      this.downSince = now;
      this.lastLine = now;
      this.logger.warn({ reason: shortReason(error) }, `${this.what} is unavailable; retrying, and logging again when it is back`);
      return;
    }
    this.logger.debug({ reason: shortReason(error), failures: this.failures }, `${this.what} is still unavailable`);
    if (now - this.lastLine >= this.summaryEveryMs) {
      this.lastLine = now;
      this.logger.warn({ failures: this.failures, downForS: seconds(now - this.downSince) }, `${this.what} is still unavailable after ${seconds(now - this.downSince)} s: ${this.failures} attempts failed`);
    }
  }

  /** An attempt worked: ends an outage, if there was one. */
  succeeded(): void {
    if (this.downSince === undefined) return;
    const downFor = seconds(this.now() - this.downSince);
    this.logger.warn({ failures: this.failures, downForS: downFor }, `${this.what} is back after ${downFor} s (${this.failures} attempts failed meanwhile)`);
    this.downSince = undefined;
    this.failures = 0;
  }
}

/** The error's own first line, short: the stack and any cause chain stay out of the log. */
function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
