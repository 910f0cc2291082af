import { performance } from 'node:perf_hooks';

export interface LoadTiming {
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  /** Units (events, rows) of the calls that completed inside the measured window. */
  units: number;
  calls: number;
  /** Calls that completed at any time, warm-up included. */
  totalCalls: number;
  /** Length of the measured window. */
  windowMs: number;
  /** Latency of every call that completed inside the window, ms. */
  latenciesMs: number[];
  errors: number;
  firstError?: string;
}

export interface Tick {
  /** Units completed in the last second. */
  units: number;
  /** Still warming up. */
  warmup: boolean;
  elapsedMs: number;
}

/**
 * A closed-loop load: `concurrency` lanes each call `op` again as soon as the previous call
 * returns, for warm-up + duration. Only calls that complete inside the measured window (after
 * the warm-up) count. `op` returns how many units the call did. A lane whose call throws stops
 * (the error is counted and the first one kept): in these benchmarks a failure means a bug.
 */
export async function closedLoop(
  concurrency: number,
  op: (lane: number) => Promise<number>,
  timing: LoadTiming,
  onTick?: (tick: Tick) => void,
): Promise<LoadResult> {
  const begin = performance.now();
  const windowStart = begin + timing.warmupMs;
  const windowEnd = windowStart + timing.durationMs;
  const result: LoadResult = { units: 0, calls: 0, totalCalls: 0, windowMs: timing.durationMs, latenciesMs: [], errors: 0 };
  let sinceTick = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    onTick?.({ units: sinceTick, warmup: now < windowStart, elapsedMs: now - begin });
    sinceTick = 0;
  }, 1000);
  const lane = async (index: number) => {
    while (performance.now() < windowEnd) {
      const started = performance.now();
      let units: number;
      try {
        units = await op(index);
      } catch (error) {
        result.errors++;
        result.firstError ??= error instanceof Error ? error.message : String(error);
        return;
      }
      const ended = performance.now();
      sinceTick += units;
      result.totalCalls++;
      if (ended >= windowStart && ended <= windowEnd) {
        result.units += units;
        result.calls++;
        result.latenciesMs.push(ended - started);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, index) => lane(index)));
  } finally {
    clearInterval(ticker);
  }
  return result;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
