import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { openPglite } from '../../src/server/sql/pglite.js';
import { migrate } from '../../src/server/sql/migrations.js';
import { createMutation } from '../../src/wire/mutations.js';
import { percentile } from './support/load.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';

const ROOT = join(import.meta.dirname, '..', '..');
const KEEPER = join(ROOT, 'bin', 'keeper.mjs');
const RUNS = Number(process.env.KEEPER_BENCH_CLI_RUNS ?? 20);
/** The sources through tsx (the start before the build) cost seconds each: a few runs say enough. */
const SOURCE_RUNS = Math.max(3, Math.ceil(RUNS / 4));
const RECORDS = 20;
const TARGET_MS = 250;

interface Timed {
  wall: number[];
  /** The process's own CPU time (user + system, every thread), which a busy machine disturbs far less than wall time. */
  cpu: number[];
}

/** Loaded into every measured process (NODE_OPTIONS): its CPU time, said on stderr as it exits. */
const CPU_HOOK = "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nkeeper-bench-cpu ${(u.user + u.system) / 1000}\\n`); });\n";

/**
 * How long `keeper` takes to start and finish, as a user runs it (`node bin/keeper.mjs`, which
 * runs the build in dist/cli): `keeper --help`, and `keeper ls` of a logged-in user with 20
 * records against a server on this machine (in this process, embedded database), which syncs
 * first. Each is started RUNS times (KEEPER_BENCH_CLI_RUNS, default 20), round-robin with
 * `node -e 0`, the baseline: Node's own start on this machine at this moment. The sources run
 * through tsx (KEEPER_FROM_SOURCE=1, what every start cost before the build) are measured a few
 * times as a further row. Median and p90 of wall time; the median is judged. Each process's own
 * CPU time is shown beside it (a hook loaded through NODE_OPTIONS reports it at exit): on a busy
 * machine wall time is mostly waiting for a CPU, and the CPU time is the steadier figure.
 */
export const cliBenchmark: Benchmark = {
  name: 'cli',
  description: `\`keeper --help\` and \`keeper ls\` started ${RUNS} times each from the build; baseline: \`node -e 0\` in the same run`,
  needsPostgres: false,
  async run(ctx) {
    await ensureBuilt(ctx);

    ctx.progress('starting a server (embedded database) and a user with records');
    const db = await openPglite();
    ctx.defer(() => db.close());
    await migrate(db);
    const server = await startBenchServer(ctx, db, { imaging: false });
    const { client, home } = await server.client();
    await client.register(`cli-${randomBytes(4).toString('hex')}`, BENCH_PASSWORD);
    await client.push({
      expectedVersion: 0,
      clientId: 'bench-setup',
      mutations: Array.from({ length: RECORDS }, (_, i) => createMutation({ kind: 'login', name: `record ${i}`, fields: [{ name: 'user', value: `user${i}`, sensitive: false }] })),
    });
    await server.app.projector?.idle();
    const env = { KEEPER_HOME: home, KEEPER_SERVER: server.address };
    const hook = join(home, 'cpu-hook.mjs');
    await writeFile(hook, CPU_HOOK);
    const measured = { NODE_OPTIONS: `--import=${pathToFileURL(hook).href}` };

    // The first ls makes the local replica; the measured ones find it there, as a user's would.
    const first = await runKeeper(['ls'], env);
    if (first.code !== 0 || !first.stdout.includes(`${RECORDS} records`)) {
      throw new Error(`keeper ls failed (exit ${first.code}): ${first.stderr.trim() || first.stdout.trim()}`);
    }

    const node: Timed = { wall: [], cpu: [] };
    const help: Timed = { wall: [], cpu: [] };
    const ls: Timed = { wall: [], cpu: [] };
    const source: Timed = { wall: [], cpu: [] };
    ctx.progress(`${RUNS} rounds of node -e 0, keeper --help, keeper ls (and ${SOURCE_RUNS} of keeper --help from the sources)`);
    for (let i = 0; i < RUNS; i++) {
      await timed(node, [process.execPath, '-e', '0'], measured);
      await timed(help, [process.execPath, KEEPER, '--help'], { ...env, ...measured });
      await timed(ls, [process.execPath, KEEPER, 'ls'], { ...env, ...measured });
      if (i % Math.ceil(RUNS / SOURCE_RUNS) === 0) await timed(source, [process.execPath, KEEPER, '--help'], { ...env, ...measured, KEEPER_FROM_SOURCE: '1' });
      if ((i + 1) % 5 === 0) ctx.progress(`  ${i + 1}/${RUNS} rounds`);
    }
    for (const [label, t] of [['node -e 0', node], ['keeper --help', help], ['keeper ls', ls], ['keeper --help (sources, tsx)', source]] as const) {
      ctx.progress(`  ${label}: ${summary(t)}; min ${ms(Math.min(...t.wall))}, max ${ms(Math.max(...t.wall))}`);
    }

    const baseline = `node -e 0: ${summary(node)}`;
    const row = (benchmark: string, t: Timed, judged: boolean): ResultRow => {
      const median = percentile(t.wall, 50);
      return {
        benchmark,
        figure: summary(t),
        baseline,
        ratio: (median / percentile(node.wall, 50)).toFixed(2),
        target: judged ? `median < ${TARGET_MS} ms` : '-',
        verdict: judged ? (median < TARGET_MS ? 'PASS' : 'FAIL') : 'info',
      };
    };
    return [
      row('cli: keeper --help, from the build [judged]', help, true),
      row(`cli: keeper ls, ${RECORDS} records, synced first [judged]`, ls, true),
      row('cli: keeper --help from the sources (tsx), as before the build', source, false),
    ];
  },
};

/** Builds dist/cli when bin/keeper.mjs would not run it (not built, or built from other sources). */
async function ensureBuilt(ctx: BenchContext): Promise<void> {
  const launch = async () => (await runKeeper(['--help'], { KEEPER_DEBUG_LAUNCH: '1' })).stderr;
  let said = await launch();
  if (said.includes('through tsx')) {
    ctx.progress(`dist/cli is not current (${said.trim().replace(/^keeper: running the sources through tsx: /, '')}): npm run build`);
    const built = await run([process.execPath, join(ROOT, 'scripts', 'build.mjs')], {});
    if (built.code !== 0) throw new Error(`the build failed: ${built.stderr.trim()}`);
    said = await launch();
  }
  if (!said.includes('running ')) throw new Error(`bin/keeper.mjs did not say what it runs: ${said.trim()}`);
  if (said.includes('through tsx')) throw new Error(`bin/keeper.mjs still runs the sources after a build: ${said.trim()}`);
  ctx.progress(said.trim().replace(/^keeper: /, ''));
}

function runKeeper(args: string[], env: Record<string, string>) {
  return run([process.execPath, KEEPER, ...args], env);
}

/** One run's wall time, from spawn to exit, and the CPU time it said it used; it must succeed. */
async function timed(into: Timed, argv: string[], env: Record<string, string>): Promise<void> {
  const started = performance.now();
  const result = await run(argv, env);
  const elapsed = performance.now() - started;
  const cpu = /keeper-bench-cpu ([\d.]+)/.exec(result.stderr);
  if (result.code !== 0 || !cpu) throw new Error(`${argv.slice(1).join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  into.wall.push(elapsed);
  into.cpu.push(Number(cpu[1]));
}

/** Runs a command in a clean environment (PATH and `env`), asynchronously: the server answering `ls` lives in this process. */
function run(argv: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function summary(t: Timed): string {
  return `median ${ms(percentile(t.wall, 50))}, p90 ${ms(percentile(t.wall, 90))} (CPU ${ms(percentile(t.cpu, 50))}; ${t.wall.length} runs)`;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}
