import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { lines, stopChild } from './support/child-lines.js';
import { count } from './support/format.js';
import { percentile } from './support/load.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import { SEED_WORDS, seedVaults } from './support/seed-vaults.js';
import type { Benchmark, ResultRow } from './types.js';

const USERS = Number(process.env.KEEPER_BENCH_AGENT_USERS ?? 1000);
const RECORDS = 200;
const LOAD_SECONDS = Number(process.env.KEEPER_BENCH_AGENT_SECONDS ?? 30);
const BARE_SECONDS = 10;
const CONNECTIONS = 100;
const TARGET_P99_MS = 50;
const TARGET_RATIO = 0.5;
const TARGET_BURST_P99_MS = 100;

interface LoadOutcome {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  bytesPerSecond: number;
}

/**
 * The agent under many users: an agent process holding N logged-in users of 200 records each,
 * loaded from another process by autocannon (100 connections; search 60 %, get 30 %, list 10 %,
 * a random user's token each); baseline: a bare route of the same framework in the agent's
 * process, loaded the same way. Then the login burst: every user logging in at once while one
 * already logged-in user keeps reading.
 */
export const agentBenchmark: Benchmark = {
  name: 'agent',
  description: `${count(USERS)} users x ${RECORDS} records in one agent; ${CONNECTIONS} connections for ${LOAD_SECONDS} s; baseline: a bare fastify route in the same process`,
  needsPostgres: true,
  async run(ctx) {
    const { db } = await openBenchSchema(ctx, 'agent', 20);
    const server = await startBenchServer(ctx, db, { imaging: false });
    const seeded = await seedVaults(ctx, server, { users: USERS, records: RECORDS, fields: 8, sealedFields: 2, prefix: 'agent', seed: 0x5eed_0005 });
    const dir = await mkdtemp(join(tmpdir(), 'keeper-bench-agent-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));

    // KEEPER_BENCH_AGENT_NODE_ARGS: more flags for the measured process (--trace-gc, say).
    const nodeArgs = (process.env.KEEPER_BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', ...nodeArgs, join(import.meta.dirname, 'support', 'agent-child.ts'), server.address], { stdio: ['pipe', 'pipe', 'inherit'] });
    ctx.defer(() => stopChild(child));
    const messages = lines(child, 'agent');
    const ready = (await messages.next((m) => 'ready' in m)).ready as { agent: string; bare: string; rssBefore: number };

    // The reader whose requests must not starve while everyone else logs in.
    const probe = await logIn(ready.agent, seeded[0]!.login);
    const probeIds = await recordIds(ready.agent, probe);
    ctx.progress(`${count(USERS - 1)} users log in at once while one reads`);
    const burstLatencies: number[] = [];
    let burstDone = false;
    const reader = (async () => {
      while (!burstDone) {
        const started = performance.now();
        const answer = await fetch(`${ready.agent}/v1/records/${probeIds[burstLatencies.length % probeIds.length]}`, { headers: { authorization: `Bearer ${probe}` } });
        await answer.arrayBuffer();
        if (answer.status !== 200) throw new Error(`a read during the login burst failed with ${answer.status}`);
        burstLatencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const burstStarted = performance.now();
    let tokens: string[];
    try {
      tokens = await Promise.all(seeded.slice(1).map((user) => logIn(ready.agent, user.login)));
    } finally {
      burstDone = true;
      await reader;
    }
    const burstMs = performance.now() - burstStarted;
    const allTokens = [probe, ...tokens];

    ctx.progress(`opening every replica through the agent`);
    const users: Array<{ token: string; ids: string[] }> = [];
    for (let i = 0; i < allTokens.length; i += 8) {
      const batch = allTokens.slice(i, i + 8);
      users.push(...(await Promise.all(batch.map(async (token) => ({ token, ids: await recordIds(ready.agent, token) })))));
      if ((i + 8) % 200 < 8) ctx.progress(`  ${Math.min(i + 8, allTokens.length)} replicas open`);
    }
    child.stdin!.write('rss\n');
    const opened = await messages.next((m) => 'rss' in m);
    const rssOpen = opened.rss as number;
    ctx.progress(`  replicas open: RSS ${((opened.rss as number) / 1e6).toFixed(0)} MB, heap used ${((opened.heapUsed as number) / 1e6).toFixed(0)} MB of ${((opened.heapTotal as number) / 1e6).toFixed(0)} MB`);

    const inputPath = join(dir, 'load.json');
    ctx.progress(`load: ${CONNECTIONS} connections for ${LOAD_SECONDS} s`);
    await writeFile(inputPath, JSON.stringify({ url: ready.agent, connections: CONNECTIONS, durationSeconds: LOAD_SECONDS, users, queries: SEED_WORDS.map((w) => w.slice(0, 4)) }), { mode: 0o600 });
    child.stdin!.write('load\n');
    const load = await runLoad(inputPath);
    child.stdin!.write('loaded\n');
    const { gc } = (await messages.next((m) => 'gc' in m)) as { gc: Record<string, { count: number; ms: number; maxMs: number }> };
    const pauses = Object.entries(gc).map(([kind, p]) => `${kind} ${p.count}x ${p.ms.toFixed(0)} ms (longest ${p.maxMs.toFixed(0)})`);
    ctx.progress(`  the collector's pauses during the load: ${pauses.join(', ') || 'none'}`);
    child.stdin!.write('rss\n');
    const loaded = await messages.next((m) => 'rss' in m);
    const rssLoaded = loaded.rss as number;
    const cpuPerRequest = ((loaded.cpuMicros as number) - (opened.cpuMicros as number)) / 1000 / load.total;
    ctx.progress(`  the agent's CPU: ${cpuPerRequest.toFixed(3)} ms per request; ${(load.bytesPerSecond / load.requestsPerSecond / 1000).toFixed(1)} KB per answer`);
    ctx.progress(`  after the load: RSS ${((loaded.rss as number) / 1e6).toFixed(0)} MB, heap used ${((loaded.heapUsed as number) / 1e6).toFixed(0)} MB of ${((loaded.heapTotal as number) / 1e6).toFixed(0)} MB`);
    ctx.progress(`baseline: the bare route for ${BARE_SECONDS} s`);
    await writeFile(inputPath, JSON.stringify({ url: ready.bare, connections: CONNECTIONS, durationSeconds: BARE_SECONDS, path: '/bare' }));
    const bare = await runLoad(inputPath);
    ctx.progress(`baseline: the bare route answering as much as a search, for ${BARE_SECONDS} s`);
    await writeFile(inputPath, JSON.stringify({ url: ready.bare, connections: CONNECTIONS, durationSeconds: BARE_SECONDS, path: '/bare-search' }));
    const bareSized = await runLoad(inputPath);
    child.stdin!.write('rss\n');
    const afterBare = await messages.next((m) => 'rss' in m);
    const bareCpuPerRequest = ((afterBare.cpuMicros as number) - (loaded.cpuMicros as number)) / 1000 / (bare.total + bareSized.total);
    ctx.progress(`  the bare routes' CPU: ${bareCpuPerRequest.toFixed(3)} ms per request`);

    const mb = (bytes: number) => bytes / 1_000_000;
    const ratio = load.requestsPerSecond / bare.requestsPerSecond;
    const errors = load.errors + load.timeouts + load.non2xx;
    const burstP99 = percentile(burstLatencies, 99);
    const rows: ResultRow[] = [
      {
        benchmark: `agent: search 60 / get 30 / list 10, ${count(USERS)} users [judged]`,
        figure: `${count(Math.round(load.requestsPerSecond))} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, ${errors} errors`,
        baseline: `bare fastify route ${count(Math.round(bare.requestsPerSecond))} req/s`,
        ratio: ratio.toFixed(2),
        target: `p99 <= ${TARGET_P99_MS} ms, 0 errors, ratio >= ${TARGET_RATIO}`,
        verdict: load.p99 <= TARGET_P99_MS && errors === 0 && ratio >= TARGET_RATIO ? 'PASS' : 'FAIL',
      },
      {
        benchmark: `agent, the same load, against a bare route answering as much as a search`,
        figure: `${count(Math.round(load.requestsPerSecond))} req/s; the agent's CPU ${cpuPerRequest.toFixed(3)} ms per request`,
        baseline: `bare ${(bareSized.bytesPerSecond / bareSized.requestsPerSecond / 1000).toFixed(1)} KB route ${count(Math.round(bareSized.requestsPerSecond))} req/s`,
        ratio: (load.requestsPerSecond / bareSized.requestsPerSecond).toFixed(2),
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: `agent memory, ${count(USERS)} users x ${RECORDS} records`,
        figure: `${mb(rssLoaded).toFixed(0)} MB RSS after load (${mb(rssOpen).toFixed(0)} MB before), ${((rssLoaded - ready.rssBefore) / USERS / 1000).toFixed(0)} KB/user`,
        baseline: `${mb(ready.rssBefore).toFixed(0)} MB RSS before any user`,
        ratio: (rssLoaded / ready.rssBefore).toFixed(2),
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: `agent: ${count(USERS - 1)} logins at once [judged]`,
        figure: `all served in ${(burstMs / 1000).toFixed(1)} s; a logged-in user's reads meanwhile p99 ${burstP99.toFixed(1)} ms`,
        baseline: `${count(burstLatencies.length)} reads during the burst, p50 ${percentile(burstLatencies, 50).toFixed(1)} ms`,
        ratio: '-',
        target: `reads p99 < ${TARGET_BURST_P99_MS} ms`,
        verdict: burstP99 < TARGET_BURST_P99_MS ? 'PASS' : 'FAIL',
      },
    ];
    return rows;
  },
};

async function logIn(agent: string, login: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const answer = await fetch(`${agent}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: BENCH_PASSWORD }) });
    const body = (await answer.json()) as { token?: string; detail?: string };
    if (answer.status === 201 && body.token) return body.token;
    if (answer.status === 503 && attempt < 5) continue;
    throw new Error(`login of ${login} through the agent failed with ${answer.status}: ${body.detail}`);
  }
}

async function recordIds(agent: string, token: string): Promise<string[]> {
  const answer = await fetch(`${agent}/v1/records?limit=20`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await answer.json()) as { records?: Array<{ id: string }>; detail?: string };
  if (answer.status !== 200 || !body.records?.length) throw new Error(`listing through the agent failed with ${answer.status}: ${body.detail}`);
  return body.records.map((record) => record.id);
}

function runLoad(inputPath: string): Promise<LoadOutcome> {
  return new Promise((resolve, reject) => {
    const load = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'autocannon-child.ts'), inputPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    load.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    load.on('error', reject);
    load.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output.trim().split('\n').at(-1)!) as LoadOutcome) : reject(new Error(`the load process ended with code ${code}`))));
  });
}

