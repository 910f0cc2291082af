import type { Level, Message } from './state.js';

const MESSAGE_LOG = 100;
/** Progress on the message line is redrawn at most this often. */
const PROGRESS_DRAW_MS = 100;

export interface NoticesOptions {
  now: () => number;
  draw: () => void;
  quitting: () => boolean;
}

/**
 * The message line and the log behind it (m reads it): what the app tells the user, each message
 * shown until the next one or until it times out, and how a transfer is going.
 */
export class Notices {
  private readonly log: Message[] = [];
  private shown: Message | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastProgressDraw = 0;

  constructor(private readonly o: NoticesOptions) {}

  /** The last messages said, oldest first. */
  get messages(): readonly Message[] {
    return this.log;
  }

  /** What the message line shows now. */
  get current(): Message | undefined {
    return this.shown;
  }

  /** Empties the message line (the log keeps what was said). */
  clear(): void {
    this.shown = undefined;
  }

  say(text: string, level: Level): void {
    const message = { at: this.o.now(), text, level };
    this.log.push(message);
    if (this.log.length > MESSAGE_LOG) this.log.shift();
    this.shown = message;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        if (this.shown === message) this.shown = undefined;
        if (!this.o.quitting()) this.o.draw();
      },
      level === 'info' ? 8_000 : 60_000,
    );
    this.timer.unref();
  }

  /** How a transfer is going, on the message line but not in the message log; drawn at most every 100 ms. */
  progress(text: string): void {
    if (this.o.quitting()) return;
    this.shown = { at: this.o.now(), text, level: 'info' };
    const now = Date.now();
    if (now - this.lastProgressDraw >= PROGRESS_DRAW_MS) {
      this.lastProgressDraw = now;
      this.o.draw();
    }
  }
}
