/**
 * Redraws once a second while the screen shows a one-time code, so its digits and the seconds it
 * has left stay current; idle otherwise. The timer never keeps the process alive.
 */
export class CodeTicker {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly showsCode: () => boolean,
    private readonly draw: () => void,
    private readonly everyMs = 1000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      if (this.showsCode()) this.draw();
    }, this.everyMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
