/** A wait between retries that a stop can cut short, so closing never waits out a backoff. */
export class WakeablePause {
  private wakeUp: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /** Ends the wait under way, if any. */
  wake(): void {
    this.wakeUp?.();
  }
}
