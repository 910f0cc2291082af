import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Field } from '../../src/domain/record.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { Projector } from '../../src/projections/projector.js';
import type { NewEvent } from '../../src/server/eventstore/port.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { count, rate, ratio, seconds } from './support/format.js';
import { openBenchSchema } from './support/postgres.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';

const USERS = 1000;
/** User i has 2i+1 events: 1 to 1,999, a median of 1,000, 1,000,000 in all. */
const lengthOf = (user: number) => 2 * user + 1;
const EVENTS = Array.from({ length: USERS }, (_, i) => lengthOf(i)).reduce((a, b) => a + b, 0);
/** Events per SqlEventStore.append (one multi-row INSERT of 5 parameters per event). */
const APPEND_BATCH = 2000;
const LANES = 4;
const TARGET_EVENTS_PER_SECOND = 100_000;

interface RunResult {
  events: number;
  ms: number;
  /** CPU time of the measuring process itself. */
  cpuMs: number;
  peakRssMb: number;
  peakHeapMb: number;
  differences: number;
}

/**
 * `keeper audit`'s replay over a 1,000,000-event log of 1,000 users: every stream read page by
 * page through the EventStore port and folded with the domain's evolve (as `audit state` and
 * `audit verify` do), in a fresh process, against reading the same pages without folding them.
 * Also the whole `audit verify` (replay + comparison with the read model the real projector built).
 */
export const replayBenchmark: Benchmark = {
  name: 'replay',
  description: `keeper audit replaying a ${count(EVENTS)}-event log of ${count(USERS)} users (events/s, peak memory); baseline: the same pages read without folding`,
  needsPostgres: true,
  async run(ctx) {
    const { db, schema } = await openBenchSchema(ctx, 'replay', LANES + 2);
    const store = new SqlEventStore(db);

    ctx.progress(`appending ${count(EVENTS)} events for ${count(USERS)} users through SqlEventStore.append (batches of up to ${count(APPEND_BATCH)}, ${LANES} at a time)`);
    const userIds = Array.from({ length: USERS }, () => randomUUID());
    for (let i = 0; i < USERS; i += 500) {
      const chunk = userIds.slice(i, i + 500);
      await db.query(
        `INSERT INTO users (user_id, login, password_hash) SELECT id, 'bench-' || ($2::integer + ord), 'not-a-hash' FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord)`,
        [chunk, i],
      );
    }
    const appendStarted = performance.now();
    let appended = 0;
    let reported = 0;
    let nextUser = 0;
    const lane = async () => {
      for (;;) {
        const user = nextUser++;
        if (user >= USERS) return;
        const history = new UserHistory();
        const stream = streamIdForUser(userIds[user]!);
        const length = lengthOf(user);
        for (let version = 0; version < length; version += APPEND_BATCH) {
          const events = Array.from({ length: Math.min(APPEND_BATCH, length - version) }, () => history.next());
          await store.append(stream, version, events);
          appended += events.length;
          if (appended - reported >= 100_000) {
            reported = appended - (appended % 100_000);
            const elapsed = performance.now() - appendStarted;
            ctx.progress(`  ${count(appended)} appended (${rate(appended / (elapsed / 1000), 'events')}, ETA ${seconds(((EVENTS - appended) / appended) * elapsed)})`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    const appendMs = performance.now() - appendStarted;
    ctx.progress(`  appended in ${seconds(appendMs)} (${rate(EVENTS / (appendMs / 1000), 'events')})`);

    ctx.progress('projecting them into the read model with the real projector (batches of 5,000)');
    const projectStarted = performance.now();
    let projected = 0;
    let projectedReported = 0;
    const projector = new Projector(db, store, {
      batchSize: 5000,
      onProgress: ({ applied }) => {
        projected += applied;
        if (projected - projectedReported >= 200_000) {
          projectedReported = projected - (projected % 200_000);
          ctx.progress(`  ${count(projected)} projected`);
        }
      },
    });
    const total = await projector.catchUp();
    if (total !== EVENTS) throw new Error(`the projector applied ${total} events; expected ${EVENTS}`);
    ctx.progress(`  projected in ${seconds(performance.now() - projectStarted)}`);
    await db.query('ANALYZE');
    await db.close();

    const url = urlWithSearchPath(ctx.databaseUrl, schema);
    const raw = await measure(ctx, 'raw', url);
    const replay = await measure(ctx, 'replay', url);
    const verify = await measure(ctx, 'verify', url);
    for (const run of [raw, replay, verify]) {
      if (run.events !== EVENTS) throw new Error(`a run read ${run.events} events; expected ${EVENTS}`);
    }
    if (verify.differences !== 0) throw new Error(`verify found ${verify.differences} differences in a read model the projector built`);

    const replayRate = EVENTS / (replay.ms / 1000);
    const rawRate = EVENTS / (raw.ms / 1000);
    const verifyRate = EVENTS / (verify.ms / 1000);
    const rows: ResultRow[] = [
      {
        benchmark: `replay (${count(EVENTS)} events, ${count(USERS)} users)`,
        figure: `${rate(replayRate, 'events')} (${seconds(replay.ms)}; ${count(EVENTS / (replay.cpuMs / 1000))} per CPU-s)`,
        baseline: `${rate(rawRate, 'events')} pages read, not folded`,
        ratio: ratio(replayRate / rawRate),
        target: `>= ${count(TARGET_EVENTS_PER_SECOND)} events/s`,
        verdict: replayRate >= TARGET_EVENTS_PER_SECOND ? 'PASS' : 'FAIL',
      },
      {
        benchmark: 'replay memory',
        figure: `peak RSS ${replay.peakRssMb} MB, heap ${replay.peakHeapMb} MB`,
        baseline: `peak RSS ${raw.peakRssMb} MB, heap ${raw.peakHeapMb} MB reading only`,
        ratio: '-',
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: 'audit verify (replay + read model)',
        figure: `${rate(verifyRate, 'events')} (${seconds(verify.ms)})`,
        baseline: `peak RSS ${verify.peakRssMb} MB, heap ${verify.peakHeapMb} MB`,
        ratio: ratio(verifyRate / rawRate),
        target: '-',
        verdict: 'info',
      },
    ];
    return rows;
  },
};

/** The URL with the bench schema as search_path (keeper audit takes a schema that way too). */
function urlWithSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

/** Runs replay-run.ts in a fresh process (its peak RSS is the run's own) and reads its one JSON line. */
function measure(ctx: BenchContext, mode: 'raw' | 'replay' | 'verify', url: string): Promise<RunResult> {
  ctx.progress(`${mode}: a fresh process reading the whole log${mode === 'raw' ? ' (no fold)' : mode === 'verify' ? ' and the read model' : ''}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'replay-run.ts'), mode, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ctx.defer(() => void child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`replay-run ${mode} exited with ${code}: ${stderr.trim()}`));
      const result = JSON.parse(stdout) as RunResult;
      ctx.progress(
        `  ${count(result.events)} events in ${seconds(result.ms)} (${rate(result.events / (result.ms / 1000), 'events')}; ` +
          `${count(result.events / (result.cpuMs / 1000))} events per CPU-second of this process); peak RSS ${result.peakRssMb} MB, heap ${result.peakHeapMb} MB`,
      );
      resolve(result);
    });
  });
}

/**
 * A plausible vault history (as the pull benchmark's): a quarter of the events create a login
 * record, most others change its password, a note or its name, and a few delete a record.
 */
class UserHistory {
  private readonly live: string[] = [];
  private readonly clientId = `device-${randomBytes(3).toString('hex')}`;
  private created = 0;

  next(): NewEvent {
    const id = randomUUID();
    const at = Date.now();
    const roll = Math.random();
    if (this.live.length === 0 || roll < 0.25) {
      const recordId = randomUUID();
      this.live.push(recordId);
      const n = ++this.created;
      const fields: Field[] = [
        { name: 'username', value: `person${n}@example.com`, sensitive: false },
        { name: 'password', value: randomBytes(15).toString('base64'), sensitive: true },
        { name: 'url', value: `https://service-${n}.example.com/login`, sensitive: false },
      ];
      return { id, type: 'RecordCreated', data: { recordId, kind: 'login', name: `Service ${n}`, fields }, metadata: { mutationId: id, recordId, clientId: this.clientId, at } };
    }
    const index = Math.floor(Math.random() * this.live.length);
    const recordId = this.live[index]!;
    if (roll > 0.97) {
      this.live.splice(index, 1);
      return { id, type: 'RecordDeleted', data: { recordId }, metadata: { mutationId: id, recordId, clientId: this.clientId, at } };
    }
    const data =
      roll < 0.75
        ? { recordId, setFields: [{ name: 'password', value: randomBytes(15).toString('base64'), sensitive: true }], removeFields: [] }
        : roll < 0.9
          ? { recordId, setFields: [{ name: 'note', value: `rotated on ${new Date(at).toISOString().slice(0, 10)}`, sensitive: false }], removeFields: [] }
          : { recordId, name: `Renamed ${recordId.slice(0, 8)}`, setFields: [], removeFields: [] };
    return { id, type: 'RecordUpdated', data, metadata: { mutationId: id, recordId, clientId: this.clientId, at } };
  }
}
