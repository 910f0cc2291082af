/**
 * Slows down guessing: per key (a login, a user, a caller), a few failed attempts are free within
 * a window, then each further one must wait, twice as long each time up to a cap. A success
 * clears the key. The map is bounded (least recently failed keys go first), so a flood of
 * made-up keys cannot grow it without end.
 */
export interface AttemptLimits {
  /** Failures allowed within `windowMs` before waiting starts. */
  free: number;
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxKeys: number;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export class AttemptLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limits: AttemptLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before an attempt for this key may be made, or 0. */
  retryAfter(key: string): number {
    const entry = this.live(key);
    return entry ? Math.max(0, entry.blockedUntil - this.now()) : 0;
  }

  failed(key: string): void {
    const at = this.now();
    const entry = this.live(key) ?? { failures: 0, lastFailureAt: at, blockedUntil: 0 };
    entry.failures += 1;
    entry.lastFailureAt = at;
    const over = entry.failures - this.limits.free;
    if (over > 0) entry.blockedUntil = at + Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(30, over - 1));
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.limits.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const at = this.now();
    if (at - entry.lastFailureAt > this.limits.windowMs && entry.blockedUntil <= at) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
