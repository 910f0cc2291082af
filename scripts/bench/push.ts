import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { cpuSnapshot, describeCpu } from './support/cpu.js';
import { count, rate, ratio } from './support/format.js';
import { closedLoop, percentile, type LoadResult, type LoadTiming } from './support/load.js';
import { createdEventRow } from './support/payloads.js';
import { openBenchSchema, rawConnections } from './support/postgres.js';
import type { PushLoadInput, PushLoadMessage } from './support/push-load.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';

const CLIENTS = 50;
/** Mutations per push in the measured row; B=1 is reported as an extra row. */
const BATCH = 10;
const TARGET_EVENTS_PER_SECOND = 3000;
const TARGET_RATIO = 0.5;

interface Phase {
  batch: number;
  push?: LoadResult;
  raw?: LoadResult;
}

/**
 * 50 users, each with its own KeeperClient, pushing batches of small CreateRecord mutations to a
 * real server over PostgreSQL, against the same rows written by raw multi-row INSERTs.
 */
export const pushBenchmark: Benchmark = {
  name: 'push',
  description: `${CLIENTS} concurrent clients pushing batches of ${BATCH} CreateRecord mutations; baseline: raw pg multi-row INSERTs`,
  needsPostgres: true,
  async run(ctx) {
    const timing: LoadTiming = { warmupMs: ctx.warmupMs, durationMs: ctx.durationMs };
    const phases: Phase[] = [{ batch: BATCH }, { batch: 1 }];

    // --- Keeper: a server as `keeper up` runs it, over its own schema (production pool size).
    const { db } = await openBenchSchema(ctx, 'push');
    const server = await startBenchServer(ctx, db);
    ctx.progress(`server on ${server.address}; registering ${CLIENTS} users (bcrypt cost 10)`);
    const started = performance.now();
    const homes = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, index) => {
        const { client, home } = await server.client();
        await client.register(`bench-user-${index}`, BENCH_PASSWORD);
        return home;
      }),
    );
    ctx.progress(`registered ${CLIENTS} users in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    let versions = homes.map(() => 0);
    for (const phase of phases) {
      ctx.progress(`Keeper push, B=${phase.batch}: ${CLIENTS} clients, ${timing.warmupMs / 1000} s warm-up + ${timing.durationMs / 1000} s measured`);
      const cpuBefore = cpuSnapshot();
      const outcome = await runPushLoad(ctx, { address: server.address, homes, versions, batch: phase.batch, ...timing });
      const cpuAfter = cpuSnapshot();
      versions = outcome.versions;
      phase.push = outcome.result;
      report(ctx, `Keeper push, B=${phase.batch}`, phase.push, 'events');
      ctx.progress(`  ${describeCpu(cpuBefore, cpuAfter, phase.push.totalCalls, 'push', 'server thread')} (this process includes the ${CLIENTS} clients' worker)`);
      const lagStart = performance.now();
      await server.app.projector!.idle();
      ctx.progress(`  the inline projector caught up ${((performance.now() - lagStart) / 1000).toFixed(1)} s after the load stopped`);
    }
    await server.app.stop();
    await db.close();

    // --- Baseline: the same rows, same batch size and concurrency, straight into `events`.
    const raw = await openBenchSchema(ctx, 'push_raw');
    await raw.db.close();
    const connections = await rawConnections(ctx, raw.schema, CLIENTS);
    for (const phase of phases) {
      ctx.progress(`raw INSERT, B=${phase.batch}: ${CLIENTS} connections, ${timing.warmupMs / 1000} s warm-up + ${timing.durationMs / 1000} s measured`);
      await connections[0]!.query('TRUNCATE events');
      const cpuBefore = cpuSnapshot();
      phase.raw = await rawInsertLoad(connections, phase.batch, timing, ctx);
      const cpuAfter = cpuSnapshot();
      report(ctx, `raw INSERT, B=${phase.batch}`, phase.raw, 'rows');
      ctx.progress(`  ${describeCpu(cpuBefore, cpuAfter, phase.raw.totalCalls, 'INSERT', 'main thread')}`);
    }
    return phases.map((phase) => toRow(phase, phase.batch === BATCH));
  },
};

function runPushLoad(ctx: BenchContext, input: PushLoadInput): Promise<{ result: LoadResult; versions: number[] }> {
  return new Promise((resolve, reject) => {
    const worker = tsWorker(new URL('./support/push-load.ts', import.meta.url), input);
    let done: { result: LoadResult; versions: number[] } | undefined;
    worker.on('message', (message: PushLoadMessage) => {
      if (message.kind === 'tick') {
        const { tick } = message;
        ctx.progress(`  ${(tick.elapsedMs / 1000).toFixed(0).padStart(3)} s ${tick.warmup ? '(warm-up) ' : ''}${rate(tick.units, 'events')}`);
      } else {
        if (message.conflicts > 0) ctx.progress(`  ${message.conflicts} pushes were not accepted`);
        done = { result: message.result, versions: message.versions };
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (done ? resolve(done) : reject(new Error(`the push load worker exited (code ${code}) without a result`))));
  });
}

/**
 * A worker thread running a TypeScript module. Workers do not inherit the `--import tsx` loader
 * hooks of the main thread, so the worker registers tsx itself before importing the module.
 */
function tsWorker(module: URL, workerData: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

async function rawInsertLoad(connections: pg.Client[], batch: number, timing: LoadTiming, ctx: BenchContext): Promise<LoadResult> {
  const streams = connections.map(() => ({ id: streamIdForUser(randomUUID()), version: 0 }));
  let n = 0;
  return closedLoop(
    connections.length,
    async (lane) => {
      const stream = streams[lane]!;
      const params: unknown[] = [];
      const values: string[] = [];
      for (let i = 0; i < batch; i++) {
        const event = createdEventRow(n++, `bench-${lane}`);
        const base = params.length;
        params.push(stream.id, ++stream.version, event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
        values.push(`($${base + 1}, $${base + 2}, $${base + 3}::uuid, $${base + 4}, $${base + 5}::jsonb, $${base + 6}::jsonb)`);
      }
      await connections[lane]!.query(`INSERT INTO events (stream_id, version, event_id, type, data, metadata) VALUES ${values.join(', ')}`, params);
      return batch;
    },
    timing,
    (tick) => ctx.progress(`  ${(tick.elapsedMs / 1000).toFixed(0).padStart(3)} s ${tick.warmup ? '(warm-up) ' : ''}${rate(tick.units, 'rows')}`),
  );
}

function perSecond(result: LoadResult): number {
  return result.units / (result.windowMs / 1000);
}

function report(ctx: BenchContext, label: string, result: LoadResult, unit: string): void {
  ctx.progress(
    `  ${label}: ${rate(perSecond(result), unit)} (${count(result.units)} ${unit} in ${count(result.calls)} calls; ` +
      `latency p50 ${percentile(result.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(result.latenciesMs, 99).toFixed(1)} ms)` +
      (result.errors ? `; ${result.errors} lanes failed, first: ${result.firstError}` : ''),
  );
}

function toRow(phase: Phase, judged: boolean): ResultRow {
  if (!phase.push) throw new Error(`push phase B=${phase.batch} did not run`);
  const push = perSecond(phase.push);
  const raw = phase.raw ? perSecond(phase.raw) : NaN;
  const r = push / raw;
  const failed = phase.push.errors > 0 || (phase.raw?.errors ?? 0) > 0;
  const pass = !failed && push >= TARGET_EVENTS_PER_SECOND && r >= TARGET_RATIO;
  return {
    benchmark: `push (${CLIENTS} clients, B=${phase.batch})`,
    figure: rate(push, 'events'),
    baseline: `${rate(raw, 'rows')} raw INSERT`,
    ratio: ratio(r),
    target: judged ? `>= ${count(TARGET_EVENTS_PER_SECOND)} events/s, ratio >= ${ratio(TARGET_RATIO)}` : '-',
    verdict: judged || failed ? (pass ? 'PASS' : 'FAIL') : 'info',
  };
}
