import type { AttemptLimiter } from '../../lib/attempt-limiter.js';
import { KeeperFailure } from './failures.js';

/** A limiter and the key an attempt counts under (a login, a user, a caller). */
export type LimitedKey = [AttemptLimiter, string];

/** Refuses an attempt while any limiter says to wait; the failure carries how long. */
export function checkLimit(keys: LimitedKey[]): void {
  const wait = Math.max(...keys.map(([limiter, key]) => limiter.retryAfter(key)));
  if (wait > 0) throw new KeeperFailure('throttled', `too many attempts; try again in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait });
}

export function failedAttempt(keys: LimitedKey[]): void {
  for (const [limiter, key] of keys) limiter.failed(key);
}

export function goodAttempt(keys: LimitedKey[]): void {
  for (const [limiter, key] of keys) limiter.succeeded(key);
}
