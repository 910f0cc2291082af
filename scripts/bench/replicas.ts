import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateVaultKey, sealValue } from '../../src/client/crypto/index.js';
import { createMutation } from '../../src/wire/mutations.js';
import type { Field } from '../../src/domain/record.js';
import type { StoredSession } from '../../src/client/token-store.js';
import { seededRandom } from '../../src/lib/seeded-random.js';
import { count } from './support/format.js';
import { percentile } from './support/load.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark, ResultRow } from './types.js';
import { randomUUID } from 'node:crypto';

const USERS = Number(process.env.KEEPER_BENCH_REPLICA_USERS ?? 1000);
const RECORDS = 200;
const FIELDS = 8;
/** Of the eight fields, this many are sealed on the client (real AES-256-GCM values of real size). */
const SEALED_FIELDS = 2;
const TARGET_RSS_MB = 600;
const TARGET_FIRST_SEARCH_MS = 5;
const WORDS = ['mail', 'bank', 'visa', 'router', 'github', 'server', 'office', 'phone', 'alpha', 'delta', 'orbit', 'lantern', 'cobble', 'ferry', 'quartz', 'zebra'];

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
    const random = seededRandom(0x5eed_0004);
    const word = () => WORDS[Math.floor(random() * WORDS.length)]!;
    ctx.progress(`registering ${count(USERS)} users and pushing ${count(RECORDS)} records each`);
    const sessions: StoredSession[] = [];
    const pending: Array<Promise<void>> = [];
    for (let u = 0; u < USERS; u++) {
      const work = (async () => {
        const { client: user } = await server.client();
        const session = await user.register(`replica-${u}-${randomBytes(3).toString('hex')}`, BENCH_PASSWORD);
        const key = generateVaultKey();
        const mutations = Array.from({ length: RECORDS }, (_, r) => {
          const recordId = randomUUID();
          const fields: Field[] = Array.from({ length: FIELDS }, (_, f) => {
            const value = `${word()}-${word()}-${Math.floor(random() * 1e6)}`;
            const sealed = f >= FIELDS - SEALED_FIELDS;
            return { name: `field-${f}`, value: sealed ? sealValue(key, value, { recordId, field: `field-${f}` }) : value, sensitive: sealed };
          });
          return createMutation({ recordId, kind: 'login', name: `${word()} ${word()} ${r}`, fields });
        });
        await user.push({ expectedVersion: 0, clientId: 'bench-setup', mutations });
        sessions.push(await user.currentSession().then((s) => s ?? session));
        user.close();
      })();
      pending.push(work);
      if (pending.length >= 8) await Promise.all(pending.splice(0));
      if ((u + 1) % 100 === 0) ctx.progress(`  ${u + 1} users`);
    }
    await Promise.all(pending);
    ctx.progress('waiting for the read model to catch up');
    await server.app.projector?.idle();

    const dir = await mkdtemp(join(tmpdir(), 'keeper-bench-replicas-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const inputPath = join(dir, 'input.json');
    await writeFile(inputPath, JSON.stringify({ address: server.address, sessions, queries: WORDS.map((w) => w.slice(0, 4)) }), { mode: 0o600 });
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
