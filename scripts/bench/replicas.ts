import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { count } from './support/format.js';
import { percentile } from './support/load.js';
import { openBenchSchema } from './support/postgres.js';
import { startBenchServer } from './support/server.js';
import { SEED_WORDS, seedVaults } from './support/seed-vaults.js';
import type { Benchmark, ResultRow } from './types.js';

const USERS = Number(process.env.KEEPER_BENCH_REPLICA_USERS ?? 1000);
const RECORDS = 200;
const FIELDS = 8;
const SEALED_FIELDS = 2;
const TARGET_RSS_MB = 600;
const TARGET_FIRST_SEARCH_MS = 5;

/**
 * An agent's load: N users' replicas open in one process over one shared gRPC channel, each user
 * with 200 records of 8 fields (2 of them sealed), each searched once (the index built on first
 * use, then let go as the user goes idle). Measured in a child process of its own so the server's
 * memory is not counted; the baseline is that process's RSS before it opens anything.
 */
export const replicasBenchmark: Benchmark = {
  name: 'replicas',
  description: `${count(USERS)} users x ${RECORDS} records x ${FIELDS} fields open in one process from a shared channel; baseline: the same process before opening`,
  needsPostgres: true,
  async run(ctx) {
    const { db } = await openBenchSchema(ctx, 'replicas', 20);
    const server = await startBenchServer(ctx, db, { imaging: false });
    const seeded = await seedVaults(ctx, server, { users: USERS, records: RECORDS, fields: FIELDS, sealedFields: SEALED_FIELDS, prefix: 'replica', seed: 0x5eed_0004 });
    const sessions = seeded.map((user) => user.session);

    const dir = await mkdtemp(join(tmpdir(), 'keeper-bench-replicas-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const inputPath = join(dir, 'input.json');
    await writeFile(inputPath, JSON.stringify({ address: server.address, sessions, queries: SEED_WORDS.map((w) => w.slice(0, 4)) }), { mode: 0o600 });
    ctx.progress(`opening ${count(USERS)} replicas in a child process`);
    const result = await runChild(inputPath, (line) => ctx.progress(`  ${line}`));

    const mb = (bytes: number) => bytes / 1_000_000;
    const grown = result.rssAfterSearch - result.rssBefore;
    const perUser = grown / result.users;
    const perRecord = grown / result.records;
    const p50 = percentile(result.firstSearchMs, 50);
    const p99 = percentile(result.firstSearchMs, 99);
    ctx.progress(
      `  ${count(result.users)} replicas, ${count(result.records)} records, ${result.channels} channel(s); opened in ${(result.openMs / 1000).toFixed(1)} s; ` +
        `RSS ${mb(result.rssBefore).toFixed(0)} MB before, ${mb(result.rssOpen).toFixed(0)} MB open, ${mb(result.rssAfterSearch).toFixed(0)} MB after searching`,
    );
    const rows: ResultRow[] = [
      {
        benchmark: `replicas (${count(result.users)} users x ${RECORDS} records) [judged]`,
        figure: `${mb(result.rssAfterSearch).toFixed(0)} MB RSS (${(perUser / 1000).toFixed(0)} KB/user, ${(perRecord / 1000).toFixed(2)} KB/record)`,
        baseline: `${mb(result.rssBefore).toFixed(0)} MB RSS before opening`,
        ratio: (result.rssAfterSearch / result.rssBefore).toFixed(2),
        target: `< ${TARGET_RSS_MB} MB`,
        verdict: mb(result.rssAfterSearch) < TARGET_RSS_MB ? 'PASS' : 'FAIL',
      },
      {
        benchmark: `first search of a fresh ${RECORDS}-record replica`,
        figure: `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
        baseline: `${count(result.users - 1)} fresh replicas, one search each (code warmed on another)`,
        ratio: '-',
        target: `p99 < ${TARGET_FIRST_SEARCH_MS} ms`,
        verdict: p99 < TARGET_FIRST_SEARCH_MS ? 'PASS' : 'FAIL',
      },
    ];
    return rows;
  },
};

interface ChildResult {
  users: number;
  records: number;
  rssBefore: number;
  rssOpen: number;
  rssAfterSearch: number;
  openMs: number;
  firstSearchMs: number[];
  channels: number;
}

function runChild(inputPath: string, progress: (line: string) => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', join(import.meta.dirname, 'support', 'replicas-child.ts'), inputPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let result: ChildResult | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { progress?: string; result?: ChildResult };
      if (message.progress) progress(message.progress);
      if (message.result) result = message.result;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`the replicas process ended with code ${code}`))));
  });
}
