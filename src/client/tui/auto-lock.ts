export interface AutoLockOptions {
  /** Idle time before the screen locks; 0 never locks. */
  ms: number;
  /** Whether there is anything to lock: the vault is on screen and the app is not quitting. */
  armed: () => boolean;
  lock: () => void;
}

/** Locks the screen after a while without a key press. */
export class AutoLock {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: AutoLockOptions) {}

  get ms(): number {
    return this.o.ms;
  }

  /** A key was pressed (or the vault came up): the idle time starts again. */
  reset(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.o.ms > 0 && this.o.armed()) {
      this.timer = setTimeout(() => this.o.lock(), this.o.ms);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
