import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { bearer, callUnary, isServiceError, openClients, status, type GrpcClients } from '../../src/client/grpc-channel.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { createMutation } from '../../src/wire/mutations.js';
import { percentile } from './support/load.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD } from './support/server.js';
import type { Benchmark, ResultRow } from './types.js';

const KEEPER = join(import.meta.dirname, '..', '..', 'bin', 'keeper.mjs');
const USERS = 12;
const PHASES = ['before', 'during', 'after'] as const;
type Phase = (typeof PHASES)[number];

/**
 * Push load on three `keeper server` processes over one schema, the clients given all three
 * addresses (round_robin, retry policy; no retry of the client core's own): one replica is
 * SIGKILLed. Failed calls (target 0, every push being retriable), p99 and pushes/s before, in the
 * few seconds after the kill, and after; the baseline is the phase before the kill.
 */
export const failoverBenchmark: Benchmark = {
  name: 'failover',
  description: 'push load on three keeper server processes, one SIGKILLed; baseline: the same load before the kill',
  needsPostgres: true,
  async run(ctx) {
    const { schema } = await openBenchSchema(ctx, 'failover');
    const dataDir = await mkdtemp(join(tmpdir(), 'keeper-bench-failover-'));
    ctx.defer(() => rm(dataDir, { recursive: true, force: true }));
    const url = new URL(ctx.databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const env = {
      PATH: process.env.PATH ?? '',
      KEEPER_DATABASE_URL: url.toString(),
      KEEPER_TOKEN_KEY: await TokenIssuer.generateSecretKey(),
      KEEPER_DATA_DIR: dataDir,
      KEEPER_LISTEN: '127.0.0.1:0',
      KEEPER_BCRYPT_COST: '10',
      KEEPER_BLOB_GC_INTERVAL: '0',
      KEEPER_LOG_LEVEL: 'warn',
    };
    const children: ChildProcess[] = [];
    ctx.defer(() => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const addresses: string[] = [];
    ctx.progress('starting three keeper server processes');
    for (const i of [0, 1, 2]) {
      const child = spawn(process.execPath, [KEEPER, 'server', ...(i === 0 ? [] : ['--projector', 'external'])], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      addresses.push(await startedAddress(child));
    }
    const target = addresses.join(',');

    const users: Array<{ grpc: GrpcClients; token: string; version: number }> = [];
    for (let u = 0; u < USERS; u++) {
      const client = new KeeperClient({ server: target, tls: false }, new MemoryTokenStore(), 10_000);
      ctx.defer(() => client.close());
      const session = await client.register(`bench-failover-${u}-${Date.now().toString(36)}`, BENCH_PASSWORD);
      const grpc = openClients({ server: target, tls: false });
      ctx.defer(() => grpc.close());
      users.push({ grpc, token: session.accessToken, version: 0 });
    }

    const stats: Record<Phase, { latencies: number[]; failed: number; ms: number }> = { before: { latencies: [], failed: 0, ms: 0 }, during: { latencies: [], failed: 0, ms: 0 }, after: { latencies: [], failed: 0, ms: 0 } };
    let phase: Phase = 'before';
    const failures = new Map<string, number>();
    let running = true;
    const load = users.map(async (user) => {
      while (running) {
        const mutation = createMutation({ kind: 'note', name: 'failover', fields: [{ name: 'text', value: 'x'.repeat(200), sensitive: false }] });
        const started = performance.now();
        const at = phase;
        try {
          const answer = await callUnary(user.grpc.vault.push.bind(user.grpc.vault), { expectedVersion: user.version, clientId: 'bench', mutations: [mutation] }, bearer(user.token), 10_000);
          if (answer.result?.$case !== 'accepted') throw new Error('push not accepted');
          user.version = answer.result.value.version;
          stats[at].latencies.push(performance.now() - started);
        } catch (error) {
          stats[at].failed++;
          const key = isServiceError(error) ? `${status[error.code]}: ${error.details}` : String(error);
          failures.set(key, (failures.get(key) ?? 0) + 1);
          // The version may have moved if the push landed: ask before going on.
          const now = await callUnary(user.grpc.vault.status.bind(user.grpc.vault), {}, bearer(user.token), 10_000).catch(() => undefined);
          if (now) user.version = now.version;
        }
      }
    });
    const phaseMs = Math.max(3_000, ctx.durationMs / 2);
    await sleep(ctx.warmupMs);
    for (const p of PHASES) stats[p].latencies.length = 0;
    for (const p of PHASES) {
      phase = p;
      if (p === 'during') {
        ctx.progress('SIGKILL replica 2 of 3');
        children[1]!.kill('SIGKILL');
      } else ctx.progress(`phase ${p}`);
      const started = performance.now();
      await sleep(phaseMs);
      stats[p].ms = performance.now() - started;
    }
    running = false;
    await Promise.all(load);
    for (const [reason, n] of failures) ctx.progress(`  failed ${n}x: ${reason}`);

    const line = (p: Phase) => `${(stats[p].latencies.length / (stats[p].ms / 1000)).toFixed(0)} pushes/s, p99 ${percentile(stats[p].latencies, 99).toFixed(1)} ms, ${stats[p].failed} failed`;
    for (const p of PHASES) ctx.progress(`  ${p}: ${line(p)}`);
    const failed = PHASES.reduce((sum, p) => sum + stats[p].failed, 0);
    const rows: ResultRow[] = [
      {
        benchmark: `failover: failed pushes over ${((3 * phaseMs) / 1000).toFixed(0)} s, one of 3 replicas SIGKILLed`,
        figure: `${failed} failed`,
        baseline: `${stats.before.latencies.length + stats.during.latencies.length + stats.after.latencies.length} acknowledged`,
        ratio: '-',
        target: '0',
        verdict: failed === 0 ? 'PASS' : 'FAIL',
      },
      ...(['during', 'after'] as const).map(
        (p): ResultRow => ({
          benchmark: `failover: push load ${p} the kill (${USERS} users)`,
          figure: line(p),
          baseline: `before: ${line('before')}`,
          ratio: (stats[p].latencies.length / stats[p].ms / (stats.before.latencies.length / stats.before.ms)).toFixed(2),
          target: '-',
          verdict: 'info',
        }),
      ),
    ];
    return rows;
  },
};

/** The gRPC address a starting `keeper server` logs, or its failure in a sentence. */
function startedAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      for (const line of text.split('\n')) {
        try {
          const parsed = JSON.parse(line) as { msg?: string; address?: string };
          if (parsed.msg === 'keeper server started' && parsed.address) {
            child.stderr!.off('data', onData);
            child.stderr!.resume();
            return resolve(parsed.address);
          }
        } catch {
          // not a log line (yet)
        }
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`keeper server exited (${code}) before it started: ${text.slice(-500)}`)));
  });
}
