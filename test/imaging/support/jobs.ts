import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { ResizeJob } from '../../../src/imaging/queue/job.js';

export function makeJob(overrides: Partial<ResizeJob> = {}): ResizeJob {
  return {
    jobId: randomUUID(),
    userId: randomUUID(),
    imageId: randomUUID(),
    original: createHash('sha256').update(randomUUID()).digest('hex'),
    type: 'image/jpeg',
    ...overrides,
  };
}

/** Silent unless KEEPER_TEST_LOG_LEVEL asks (debug, info, ...), so expected failures do not clutter the run. */
export function testLogger(): Logger {
  return pino({ level: process.env.KEEPER_TEST_LOG_LEVEL ?? 'silent' }, pino.destination(2));
}

/** Polls `condition` until it holds; fails the test with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A promise with its resolve function, for handlers that block until the test lets them go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
