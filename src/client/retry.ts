import { setTimeout as sleep } from 'node:timers/promises';
import { isServiceError, status } from './grpc-channel.js';

/**
 * The server answered UNAVAILABLE itself (it sends a `retry-after-ms` trailer): it is up but
 * could not serve the call for a moment, e.g. it lost its database connection. A refused or
 * dropped connection is UNAVAILABLE too, but without the server's trailer.
 */
export function isServerBusy(error: unknown): boolean {
  return isServiceError(error) && error.code === status.UNAVAILABLE && error.metadata?.get('retry-after-ms').length > 0;
}

export interface RetryOptions {
  /** Calls in all, the first included. */
  attempts?: number;
  /** The wait before the second call; it doubles for each further one, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs an idempotent call again while it fails with UNAVAILABLE, waiting a little longer each
 * time (at least what the server's `retry-after-ms` asks); any other failure, or the last one,
 * is the caller's. Only for calls that are safe to repeat: a push is, by its mutation ids.
 */
export async function retryUnavailable<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isServiceError(error) || error.code !== status.UNAVAILABLE) throw error;
      const asked = Number(error.metadata?.get('retry-after-ms')[0] ?? 0) || 0;
      const backoff = Math.min(max, base * 2 ** (attempt - 1));
      // Jitter, so clients cut off together do not come back together.
      await sleep(Math.max(asked, backoff) * (0.75 + Math.random() * 0.5));
    }
  }
}
