import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { Projector } from '../../src/projections/projector.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import type { Database } from '../../src/server/sql/database.js';
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

type ProjectorMode = 'external' | 'inline';

interface Phase {
  batch: number;
  /** Where the read model is built while the server takes pushes. */
  projector: ProjectorMode;
  /** The row the verdict is about. */
  judged: boolean;
  push?: LoadResult;
  raw?: LoadResult;
}

/** The configuration of the judged row, said on stderr and in the table. */
const JUDGED_CONFIGURATION =
  'server with inlineProjector: false, the read model built by a separate `keeper projector` process (as deployed)';

/**
 * 50 users, each with its own KeeperClient, pushing batches of small CreateRecord mutations to a
 * real server over PostgreSQL, against the same rows written by raw multi-row INSERTs.
 *
 * The judged row is the push path as deployed: the server does not project (production runs
 * `keeper projector` as its own process), so the projector is measured on its own afterwards,
 * catching up over everything that was pushed. Its pushes and the baseline's INSERTs take turns
 * in rounds, so that neither is measured in a quieter or busier moment than the other. A server with the inline projector (`keeper up`'s
 * default) is measured too, as an extra row, so nothing is hidden.
 */
export const pushBenchmark: Benchmark = {
  name: 'push',
  description: `${CLIENTS} concurrent clients pushing batches of ${BATCH} CreateRecord mutations; baseline: raw pg multi-row INSERTs`,
  needsPostgres: true,
  async run(ctx) {
    const timing: LoadTiming = { warmupMs: ctx.warmupMs, durationMs: ctx.durationMs };
    const judged: Phase = { batch: BATCH, projector: 'external', judged: true };
    const single: Phase = { batch: 1, projector: 'external', judged: false };
    const inline: Phase = { batch: BATCH, projector: 'inline', judged: false };
    ctx.progress(`judged row: B=${BATCH} against a ${JUDGED_CONFIGURATION}, taking turns with the raw INSERTs in ${ROUNDS} rounds`);

    // The baseline: the same rows, same batch size and concurrency, straight into `events`.
    const raw = await openBenchSchema(ctx, 'push_raw');
    await raw.db.close();
    const connections = await rawConnections(ctx, raw.schema, CLIENTS);
    const rawLoad = async (batch: number, loadTiming: LoadTiming) => {
      ctx.progress(`raw INSERT, B=${batch}: ${CLIENTS} connections, ${loadTiming.warmupMs / 1000} s warm-up + ${loadTiming.durationMs / 1000} s measured`);
      const cpuBefore = cpuSnapshot();
      const result = await rawInsertLoad(connections, batch, loadTiming, ctx);
      const cpuAfter = cpuSnapshot();
      report(ctx, `raw INSERT, B=${batch}`, result, 'rows');
      ctx.progress(`  ${describeCpu(cpuBefore, cpuAfter, result.totalCalls, 'INSERT', 'main thread')}`);
      return result;
    };

    // --- Judged: Keeper as deployed (no inline projector) and the raw INSERTs take turns, in
    // rounds that alternate who goes first, so drift in the machine or in PostgreSQL (checkpoints,
    // autovacuum, a neighbour's load) weighs on both alike.
    const { db } = await openBenchSchema(ctx, 'push');
    const deployed = await startKeeper(ctx, db, 'external');
    const round: LoadTiming = { warmupMs: timing.warmupMs, durationMs: Math.max(1000, Math.round(timing.durationMs / ROUNDS)) };
    const pushes: LoadResult[] = [];
    const inserts: LoadResult[] = [];
    for (let index = 0; index < ROUNDS; index++) {
      ctx.progress(`round ${index + 1} of ${ROUNDS}`);
      for (const side of index % 2 === 0 ? (['keeper', 'raw'] as const) : (['raw', 'keeper'] as const)) {
        if (side === 'keeper') pushes.push(await deployed.push(BATCH, round));
        else inserts.push(await rawLoad(BATCH, round));
      }
    }
    judged.push = merged(pushes);
    judged.raw = merged(inserts);
    report(ctx, `over the ${ROUNDS} rounds: Keeper push, B=${BATCH}`, judged.push, 'events');
    report(ctx, `over the ${ROUNDS} rounds: raw INSERT, B=${BATCH}`, judged.raw, 'rows');
    single.push = await deployed.push(1, timing);
    await deployed.stop();
    // --- The projector that deployment runs next to it, catching up over all that was pushed.
    const projection = await runProjectorCatchUp(ctx, db);
    await db.close();

    // --- `keeper up`'s default: the projector inside the server, over a schema of its own.
    const inlineSchema = await openBenchSchema(ctx, 'push_inline');
    const embedded = await startKeeper(ctx, inlineSchema.db, 'inline');
    inline.push = await embedded.push(BATCH, timing);
    await embedded.stop();
    await inlineSchema.db.close();
    inline.raw = judged.raw;

    single.raw = await rawLoad(1, timing);
    return [toRow(judged), toRow(single), toRow(inline), projectorRow(projection, judged)];
  },
};

/** Rounds in which the judged Keeper push and the raw INSERTs take turns. */
const ROUNDS = 4;

/** Several measured windows as one: units, calls and window lengths add up. */
function merged(results: readonly LoadResult[]): LoadResult {
  const out: LoadResult = { units: 0, calls: 0, totalCalls: 0, windowMs: 0, latenciesMs: [], errors: 0 };
  for (const result of results) {
    out.units += result.units;
    out.calls += result.calls;
    out.totalCalls += result.totalCalls;
    out.windowMs += result.windowMs;
    out.latenciesMs.push(...result.latenciesMs);
    out.errors += result.errors;
    if (result.firstError !== undefined) out.firstError ??= result.firstError;
  }
  return out;
}

interface RunningKeeper {
  /** One measured load of pushes of `batch` mutations from the 50 clients. */
  push(batch: number, timing: LoadTiming): Promise<LoadResult>;
  stop(): Promise<void>;
}

/** A fresh server of the given kind with the 50 users registered, ready for loads. */
async function startKeeper(ctx: BenchContext, db: Database, mode: ProjectorMode): Promise<RunningKeeper> {
  const server = await startBenchServer(ctx, db, { inlineProjector: mode === 'inline' });
  ctx.progress(`server (${mode} projector) on ${server.address}; registering ${CLIENTS} users (bcrypt cost 10)`);
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
  return {
    async push(batch, loadTiming) {
      const label = `Keeper push, B=${batch}, ${mode} projector`;
      ctx.progress(`${label}: ${CLIENTS} clients, ${loadTiming.warmupMs / 1000} s warm-up + ${loadTiming.durationMs / 1000} s measured`);
      const cpuBefore = cpuSnapshot();
      const outcome = await runPushLoad(ctx, { address: server.address, homes, versions, batch, ...loadTiming });
      const cpuAfter = cpuSnapshot();
      versions = outcome.versions;
      report(ctx, label, outcome.result, 'events');
      ctx.progress(`  ${describeCpu(cpuBefore, cpuAfter, outcome.result.totalCalls, 'push', 'server thread')} (this process includes the ${CLIENTS} clients' worker)`);
      if (server.app.projector) {
        const lagStart = performance.now();
        await server.app.projector.idle();
        ctx.progress(`  the inline projector caught up ${((performance.now() - lagStart) / 1000).toFixed(1)} s after the load stopped`);
      }
      return outcome.result;
    },
    stop: () => server.app.stop(),
  };
}

interface ProjectionResult {
  events: number;
  ms: number;
}

/**
 * Runs the projector over the schema as `keeper projector` would (default batch size), from an
 * empty read model until it has applied every event in the log, and times it. The server is
 * stopped by then, so the projector has the machine to itself.
 */
async function runProjectorCatchUp(ctx: BenchContext, db: Database): Promise<ProjectionResult> {
  const total = (await db.query<{ total: number }>(`SELECT count(*)::integer AS total FROM events`))[0]?.total ?? 0;
  ctx.progress(`projector catch-up over the ${count(total)} pushed events (batches of 1,000, as \`keeper projector\`)`);
  const projector = new Projector(db, new SqlEventStore(db));
  const cpuBefore = cpuSnapshot();
  const started = performance.now();
  let applied = 0;
  const deadline = started + 600_000;
  // Another transaction in the cluster can hold the log back for a moment: go on until all is in.
  while (applied < total) {
    const step = await projector.catchUp();
    applied += step;
    if (step === 0) {
      if (performance.now() > deadline) throw new Error(`the projector applied ${applied} of ${total} events within 10 minutes`);
      await sleep(5);
    }
  }
  const ms = performance.now() - started;
  const cpuAfter = cpuSnapshot();
  if (applied !== total) throw new Error(`the projector applied ${applied} events; the log holds ${total}`);
  ctx.progress(`  projector: ${rate(total / (ms / 1000), 'events')} (${count(total)} events in ${(ms / 1000).toFixed(1)} s)`);
  ctx.progress(`  ${describeCpu(cpuBefore, cpuAfter, Math.max(1, Math.ceil(total / 1000)), 'batch of 1,000', 'main thread')}`);
  return { events: total, ms };
}

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

function toRow(phase: Phase): ResultRow {
  if (!phase.push) throw new Error(`push phase B=${phase.batch} (${phase.projector} projector) did not run`);
  const push = perSecond(phase.push);
  const raw = phase.raw ? perSecond(phase.raw) : NaN;
  const r = push / raw;
  const failed = phase.push.errors > 0 || (phase.raw?.errors ?? 0) > 0;
  const pass = !failed && push >= TARGET_EVENTS_PER_SECOND && r >= TARGET_RATIO;
  const configuration = phase.projector === 'external' ? 'projector external' : 'projector inline';
  return {
    benchmark: `push (${CLIENTS} clients, B=${phase.batch}, ${configuration})${phase.judged ? ' [judged]' : ''}`,
    figure: rate(push, 'events') + (phase.push.errors ? ` (${phase.push.errors} clients failed, see stderr)` : ''),
    baseline: `${rate(raw, 'rows')} raw INSERT` + (phase.raw?.errors ? ` (${phase.raw.errors} connections failed, see stderr)` : ''),
    ratio: ratio(r),
    target: phase.judged ? `>= ${count(TARGET_EVENTS_PER_SECOND)} events/s, ratio >= ${ratio(TARGET_RATIO)}` : '-',
    verdict: phase.judged || failed ? (pass ? 'PASS' : 'FAIL') : 'info',
  };
}

/** The external projector's catch-up, against the judged push rate (ratio >= 1: it keeps up). */
function projectorRow(projection: ProjectionResult, judged: Phase): ResultRow {
  const projected = projection.events / (projection.ms / 1000);
  const pushed = judged.push ? perSecond(judged.push) : NaN;
  return {
    benchmark: `projector catch-up (${count(projection.events)} pushed events, external)`,
    figure: rate(projected, 'events'),
    baseline: `${rate(pushed, 'events')} pushed (judged row)`,
    ratio: ratio(projected / pushed),
    target: '-',
    verdict: 'info',
  };
}
