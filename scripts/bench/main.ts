/**
 * `npm run bench [name ...]`: runs the named benchmarks (all when none is named) one after the
 * other, with progress on stderr, then prints one table on stdout:
 *   benchmark | figure | baseline | ratio | target | verdict
 *
 * Environment:
 *   KEEPER_DATABASE_URL       PostgreSQL for the benchmarks that need it (each works in a fresh
 *                             schema of its own, dropped at the end); default
 *                             postgres://postgres@127.0.0.1:5432/test
 *   KEEPER_BENCH_DURATION_S   measured seconds of throughput benchmarks (default 10)
 *   KEEPER_BENCH_WARMUP_S     warm-up seconds before that (default 2)
 *
 * Exit status: 0 when every target is met, 2 when one is missed, 1 on an error (including an
 * unreachable PostgreSQL).
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BENCHMARKS } from './registry.js';
import { renderTable } from './support/format.js';
import { DEFAULT_DATABASE_URL, postgresUnreachableReason, redactUrl } from './support/postgres.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';

function usage(): string {
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  return [
    'usage: npm run bench [name ...]   (no name: all of them)',
    '',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`),
  ].join('\n');
}

function selectBenchmarks(args: string[]): Benchmark[] {
  if (args.length === 0) return [...BENCHMARKS];
  const unknown = args.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}\n\n${usage()}\n`);
    process.exit(1);
  }
  // In registry order, each once.
  return BENCHMARKS.filter((b) => args.includes(b.name));
}

function secondsFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`${name} must be a number of seconds, got "${raw}"\n`);
    process.exit(1);
  }
  return value;
}

/** Cleanups of the benchmark running now, so Ctrl-C still drops its schema and stops its server. */
let pendingCleanups: Array<() => Promise<void> | void> = [];

async function runCleanups(): Promise<void> {
  const cleanups = pendingCleanups.reverse();
  pendingCleanups = [];
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const selected = selectBenchmarks(args);
  const databaseUrl = process.env.KEEPER_DATABASE_URL || DEFAULT_DATABASE_URL;
  const durationMs = secondsFromEnv('KEEPER_BENCH_DURATION_S', 10) * 1000;
  const warmupMs = secondsFromEnv('KEEPER_BENCH_WARMUP_S', 2) * 1000;

  if (selected.some((b) => b.needsPostgres)) {
    const reason = await postgresUnreachableReason(databaseUrl);
    if (reason !== null) {
      process.stderr.write(
        `Cannot reach PostgreSQL at ${redactUrl(databaseUrl)} (${reason}); start it or point KEEPER_DATABASE_URL at one.\n`,
      );
      return 1;
    }
  }

  process.on('SIGINT', () => {
    process.stderr.write('\ninterrupted; cleaning up\n');
    void runCleanups().finally(() => process.exit(130));
  });

  // Everything (server, clients, PostgreSQL when local) shares these CPUs: say how busy they were.
  const [load1] = loadavg();
  process.stderr.write(
    `[bench] ${availableParallelism()} CPUs, load average ${load1!.toFixed(1)} before starting; ` +
      `${warmupMs / 1000} s warm-up + ${durationMs / 1000} s measured per throughput phase\n`,
  );

  const rows: ResultRow[] = [];
  let errored = false;
  for (const benchmark of selected) {
    const ctx: BenchContext = {
      databaseUrl,
      durationMs,
      warmupMs,
      progress: (message) => process.stderr.write(`[${benchmark.name}] ${message}\n`),
      defer: (cleanup) => void pendingCleanups.push(cleanup),
    };
    const started = performance.now();
    ctx.progress(`start: ${benchmark.description}`);
    try {
      rows.push(...(await benchmark.run(ctx)));
    } catch (error) {
      errored = true;
      ctx.progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push({ benchmark: benchmark.name, figure: 'error (see stderr)', baseline: '-', ratio: '-', target: '-', verdict: 'FAIL' });
    } finally {
      await runCleanups();
    }
    ctx.progress(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  process.stdout.write(`${renderTable(rows)}\n`);
  if (errored) return 1;
  return rows.some((row) => row.verdict === 'FAIL') ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    void runCleanups().finally(() => process.exit(1));
  },
);
