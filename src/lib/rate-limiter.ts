/**
 * A token bucket per key: `perMinute` actions a minute on average, as many at once after a quiet
 * spell. The map is bounded (least recently used keys go first), so made-up keys cannot grow it
 * without end.
 */
export class RateLimiter<K> {
  private readonly buckets = new Map<K, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one action for `key`: 0 when it may go ahead, else how many ms until it may. */
  take(key: K): number {
    const at = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((at - bucket.at) * this.perMinute) / 60_000);
    bucket.at = at;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 60_000) / this.perMinute);
  }
}
