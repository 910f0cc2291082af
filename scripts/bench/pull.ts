import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { KeeperClient } from '../../src/client/keeper-client.js';
import type { Field } from '../../src/domain/record.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import type { NewEvent } from '../../src/server/eventstore/port.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { count, rate, ratio, seconds } from './support/format.js';
import { openBenchSchema, rawConnections } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark, BenchContext } from './types.js';

const EVENTS = 100_000;
const APPEND_BATCH = 1000;
/** The server reads the stream in pages of this size (VaultService PULL_PAGE); the raw baseline does the same. */
const PAGE = 1000;
const TARGET_SECONDS = 3;
/** Extra pulls after the measured (first, cold) one, reported on stderr only. */
const WARM_PULLS = 2;

/**
 * A fresh client pulling one user's whole 100,000-event stream from a real server, against the
 * same rows SELECTed page by page with raw `pg`.
 */
export const pullBenchmark: Benchmark = {
  name: 'pull',
  description: `a fresh client pulling a ${count(EVENTS)}-event stream; baseline: raw pg SELECT of the same rows`,
  needsPostgres: true,
  async run(ctx) {
    const { db, schema } = await openBenchSchema(ctx, 'pull');
    const server = await startBenchServer(ctx, db);
    const owner = await server.client();
    const { userId } = await owner.client.register('bench-puller', BENCH_PASSWORD);
    const stream = streamIdForUser(userId);

    ctx.progress(`appending ${count(EVENTS)} events to ${stream} through SqlEventStore (batches of ${APPEND_BATCH})`);
    const store = new SqlEventStore(db);
    const history = new StreamHistory();
    let appendMs = 0;
    for (let version = 0; version < EVENTS; version += APPEND_BATCH) {
      const events = Array.from({ length: Math.min(APPEND_BATCH, EVENTS - version) }, () => history.next());
      const started = performance.now();
      await store.append(stream, version, events);
      appendMs += performance.now() - started;
      if ((version + APPEND_BATCH) % 20_000 === 0) ctx.progress(`  ${count(version + APPEND_BATCH)} appended`);
    }
    ctx.progress(`  appended in ${seconds(appendMs)} (${rate(EVENTS / (appendMs / 1000), 'events')}; ${count(history.created)} records created, ${count(EVENTS - history.created)} updates)`);
    const projectStart = performance.now();
    await server.app.projector!.idle();
    ctx.progress(`  the inline projector applied them within ${seconds(performance.now() - projectStart)} of the last append`);

    // The floor first, in the same state of the table (and of its statistics) as the measured pull.
    const rawMs = await rawSelect(ctx, schema, stream);

    const pulls: Array<{ ms: number; firstBatchMs: number }> = [];
    for (let run = 0; run <= WARM_PULLS; run++) {
      const fresh = await server.client();
      await fresh.client.login('bench-puller', BENCH_PASSWORD);
      const pulled = await timePull(fresh.client);
      if (pulled.events !== EVENTS || pulled.lastVersion !== EVENTS) {
        throw new Error(`pull returned ${pulled.events} events up to version ${pulled.lastVersion}; expected ${EVENTS}`);
      }
      pulls.push(pulled);
      ctx.progress(
        `  ${run === 0 ? 'fresh client (measured)' : `warm pull ${run}`}: ${seconds(pulled.ms)} ` +
          `(${rate(EVENTS / (pulled.ms / 1000), 'events')}; first batch after ${pulled.firstBatchMs.toFixed(0)} ms)`,
      );
    }

    const measured = pulls[0]!.ms;
    const pullRate = EVENTS / (measured / 1000);
    const rawRate = EVENTS / (rawMs / 1000);
    return [
      {
        benchmark: `pull (${count(EVENTS)} events)`,
        figure: `${seconds(measured)} (${rate(pullRate, 'events')})`,
        baseline: `${seconds(rawMs)} raw SELECT (${rate(rawRate, 'rows')})`,
        ratio: ratio(pullRate / rawRate),
        target: `<= ${TARGET_SECONDS} s`,
        verdict: measured <= TARGET_SECONDS * 1000 ? 'PASS' : 'FAIL',
      },
    ];
  },
};

async function timePull(client: KeeperClient) {
  let events = 0;
  let lastVersion = 0;
  let firstBatchMs = NaN;
  const started = performance.now();
  await client.pull(0, (batch) => {
    if (events === 0) firstBatchMs = performance.now() - started;
    events += batch.events.length;
    const last = batch.events[batch.events.length - 1];
    if (last) lastVersion = last.version;
  });
  return { ms: performance.now() - started, firstBatchMs, events, lastVersion };
}

/** The same rows read with plain `pg`, page by page with the statement the server's readStream runs. */
async function rawSelect(ctx: BenchContext, schema: string, stream: string): Promise<number> {
  const [connection] = await rawConnections(ctx, schema, 1);
  const started = performance.now();
  let rows = 0;
  for (let next = 1; next <= EVENTS; next += PAGE) {
    const page = await connection!.query(
      `SELECT stream_id, version, event_id::text AS event_id, type, data, metadata, created_at
       FROM events WHERE stream_id = $1 AND version >= $2 AND version < $2::bigint + $3::bigint ORDER BY version LIMIT $3`,
      [stream, next, PAGE],
    );
    rows += page.rowCount ?? 0;
  }
  const ms = performance.now() - started;
  if (rows !== EVENTS) throw new Error(`raw SELECT returned ${rows} rows; expected ${EVENTS}`);
  ctx.progress(`  raw pg SELECT (pages of ${PAGE}): ${seconds(ms)} (${rate(EVENTS / (ms / 1000), 'rows')})`);
  return ms;
}

/**
 * A plausible vault history: a quarter of the events create a login record (name, username,
 * password, URL), the rest update a random earlier record (a new password, sometimes a note or
 * a rename), so the stream stays valid for the decider.
 */
class StreamHistory {
  created = 0;
  private readonly records: string[] = [];
  private readonly clientIds = ['laptop-7f3a', 'phone-19c2', 'desktop-a04e'];

  next(): NewEvent {
    const id = randomUUID();
    const clientId = this.clientIds[Math.floor(Math.random() * this.clientIds.length)]!;
    const at = Date.now();
    if (this.records.length === 0 || Math.random() < 0.25) {
      const recordId = randomUUID();
      this.records.push(recordId);
      const n = ++this.created;
      const fields: Field[] = [
        { name: 'username', value: `person${n}@example.com`, sensitive: false },
        { name: 'password', value: secret(), sensitive: true },
        { name: 'url', value: `https://service-${n}.example.com/login`, sensitive: false },
      ];
      return { id, type: 'RecordCreated', data: { recordId, kind: 'login', name: `Service ${n}`, fields }, metadata: { mutationId: id, recordId, clientId, at } };
    }
    const recordId = this.records[Math.floor(Math.random() * this.records.length)]!;
    const roll = Math.random();
    const data =
      roll < 0.7
        ? { recordId, setFields: [{ name: 'password', value: secret(), sensitive: true }], removeFields: [] }
        : roll < 0.9
          ? { recordId, setFields: [{ name: 'note', value: `rotated on ${new Date(at).toISOString().slice(0, 10)}`, sensitive: false }], removeFields: [] }
          : { recordId, name: `Renamed ${recordId.slice(0, 8)}`, setFields: [], removeFields: [] };
    return { id, type: 'RecordUpdated', data, metadata: { mutationId: id, recordId, clientId, at } };
  }
}

function secret(): string {
  return randomBytes(15).toString('base64');
}
