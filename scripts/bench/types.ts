/** One line of the final table. Every cell is already formatted for display. */
export interface ResultRow {
  benchmark: string;
  figure: string;
  baseline: string;
  ratio: string;
  target: string;
  /** PASS / FAIL against the target; "info" for a row that only reports a figure. */
  verdict: 'PASS' | 'FAIL' | 'info';
}

export interface BenchContext {
  /** KEEPER_DATABASE_URL, or the local test database. */
  databaseUrl: string;
  /** Measured phase of throughput benchmarks, and the warm-up before it (ms). */
  durationMs: number;
  warmupMs: number;
  /** One progress line on stderr, prefixed with the benchmark's name. */
  progress(message: string): void;
  /** Registers cleanup (drop a schema, stop a server); run in reverse order when the benchmark ends, even on failure or Ctrl-C. */
  defer(cleanup: () => Promise<void> | void): void;
}

/**
 * A benchmark: one file under scripts/bench/ exporting one of these, plus one line in registry.ts.
 * `run` measures and returns its rows (usually one, sometimes an extra "info" row).
 */
export interface Benchmark {
  name: string;
  description: string;
  needsPostgres: boolean;
  run(ctx: BenchContext): Promise<ResultRow[]>;
}
