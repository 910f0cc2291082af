/**
 * Runs `pass` again and again: at once while it finds work (answers > 0), otherwise after
 * `pollIntervalMs` or when poked (sooner when it answers HELD_BACK). A failed pass is reported and
 * retried after a wait that doubles with each failure in a row (up to MAX_BACKOFF_MS), so an
 * outage is not hammered.
 * Used by the log tailers (projector, image job relay), which also hear about appends made in
 * their own process and poll for those of other processes.
 */
const MAX_BACKOFF_MS = 5_000;

/**
 * What a pass answers when there is work it cannot take yet (for the log tailers: events that
 * committed behind a transaction still in flight elsewhere). The loop is then not caught up, so
 * its idle() waiters keep waiting, and it looks again soon (20 ms, doubling while it stays held
 * back, up to the interval) rather than after a whole interval.
 */
export const HELD_BACK = -1;
const HELD_BACK_RETRY_MS = 20;

export class PollingLoop {
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly caughtUpWaiters: Array<() => void> = [];
  private failuresInARow = 0;
  private heldBackInARow = 0;

  constructor(
    private readonly pass: () => Promise<number>,
    private readonly pollIntervalMs: number,
    private readonly onError: (error: unknown) => void = () => {},
    /** After every pass that did not fail (ends an outage its onError reported). */
    private readonly onSuccess: () => void = () => {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Makes an idle loop look now. */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Resolves once a pass that started after this call found nothing to do (or the loop stopped). */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.caughtUpWaiters.push(resolve);
      this.wake?.();
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      // Only a pass that started after a waiter asked can tell it everything is done.
      const waiters = this.caughtUpWaiters.splice(0);
      let found = 0;
      let failed = false;
      try {
        found = await this.pass();
        this.onSuccess();
      } catch (error) {
        failed = true;
        this.onError(error);
      }
      this.failuresInARow = failed ? this.failuresInARow + 1 : 0;
      const heldBack = found === HELD_BACK;
      this.heldBackInARow = heldBack ? this.heldBackInARow + 1 : 0;
      if (found === 0 && !failed) for (const resolve of waiters) resolve();
      else this.caughtUpWaiters.unshift(...waiters);
      if (!this.running) break;
      // A waiter that arrived during the pass (when there was no sleep to cut short) needs a pass of its own now.
      if (found > 0 || (!failed && !heldBack && this.caughtUpWaiters.length > 0)) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.delay());
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

  private delay(): number {
    if (this.heldBackInARow > 0) return Math.min(this.pollIntervalMs, HELD_BACK_RETRY_MS * 2 ** Math.min(this.heldBackInARow - 1, 20));
    if (this.failuresInARow === 0) return this.pollIntervalMs;
    const ceiling = Math.max(this.pollIntervalMs, MAX_BACKOFF_MS);
    return Math.min(ceiling, this.pollIntervalMs * 2 ** Math.min(this.failuresInARow - 1, 20));
  }
}
