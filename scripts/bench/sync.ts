import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import type { SyncReport } from '../../src/client/sync/sync-protocol.js';
import type { Field } from '../../src/domain/record.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import type { NewEvent } from '../../src/server/eventstore/port.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { startByteProxy, type ByteCount, type ByteProxy } from './support/byte-proxy.js';
import { count, seconds } from './support/format.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';

const RECORDS = 10_000;
const APPEND_BATCH = 1000;
/** Edits made on the writer, each followed by a sync of the writer then of the reader. */
const EDITS = 5;
const IDLE_SYNCS = 3;
const TARGET_READER_BYTES = 2048;
const LOGIN = 'bench-syncer';

interface Device {
  name: string;
  proxy: ByteProxy;
  client: KeeperClient;
  engine: SyncEngine;
  /** Bytes of the login that opened the device's connection (HTTP/2 setup included). */
  login: ByteCount;
}

/**
 * What a sync costs on the wire for a 10,000-record vault, counted by a TCP proxy between each
 * client and the server: a cold start (Status + List + Pull of the tail), a sync after one edit
 * made on another device (the reader: Status + Pull of 1 event; the writer: Status + Push + Pull),
 * and a sync with nothing new (Status only). Per-sync figures are on an already-open HTTP/2
 * connection; the cost of opening one is reported on its own. Baseline: the full List.
 */
export const syncBenchmark: Benchmark = {
  name: 'sync',
  description: `bytes on the wire to sync a ${count(RECORDS)}-record vault (cold start, 1 edit from another device, nothing new); baseline: the full List`,
  needsPostgres: true,
  async run(ctx) {
    const { db } = await openBenchSchema(ctx, 'sync');
    const server = await startBenchServer(ctx, db);
    const owner = await server.client();
    const { userId } = await owner.client.register(LOGIN, BENCH_PASSWORD);

    ctx.progress(`appending ${count(RECORDS)} RecordCreated events through SqlEventStore (batches of ${APPEND_BATCH}), then waiting for the projector`);
    const started = performance.now();
    const store = new SqlEventStore(db);
    const stream = streamIdForUser(userId);
    for (let version = 0; version < RECORDS; version += APPEND_BATCH) {
      const events = Array.from({ length: Math.min(APPEND_BATCH, RECORDS - version) }, (_, i) => createdEvent(version + i + 1));
      await store.append(stream, version, events);
    }
    await server.app.projector!.idle();
    ctx.progress(`  vault ready in ${seconds(performance.now() - started)}`);

    // Two devices of the user, each logged in through a counting proxy of its own.
    const reader = await device(ctx, server.address, 'reader', userId);
    const writer = await device(ctx, server.address, 'writer', userId);

    // --- The cost of a new connection: the same Status on a fresh connection and on an open one
    // (a client of its own, through a proxy of its own, that starts with the reader's session).
    const probe = await probeClient(ctx, server.address, reader.client);
    const firstStatus = await probe.proxy.measure(() => probe.client.status());
    const warmStatus = await probe.proxy.measure(() => probe.client.status());
    if (firstStatus.bytes.connections !== 1 || warmStatus.bytes.connections !== 0) throw new Error('the probe did not open exactly one connection on its first call');
    const setup = { sent: firstStatus.bytes.sent - warmStatus.bytes.sent, received: firstStatus.bytes.received - warmStatus.bytes.received };
    ctx.progress(
      `  first connection: Status on a new connection ${describe(firstStatus.bytes)} vs ${describe(warmStatus.bytes)} on an open one; ` +
        `a login on a new connection ${describe(reader.login)}`,
    );

    // --- (i) Cold start.
    const cold = await reader.proxy.measure(() => reader.engine.sync());
    expectReport(cold.result, { transfer: 'snapshot', pushed: 0 });
    if (reader.engine.records().length !== RECORDS) throw new Error(`cold start gave ${reader.engine.records().length} records; expected ${count(RECORDS)}`);
    const list = await reader.proxy.measure(() => reader.client.list());
    if (list.result.records.length !== RECORDS) throw new Error(`List gave ${list.result.records.length} records`);
    const listBytes = total(list.bytes);
    ctx.progress(`  (i) cold start (Status + List + Pull of the tail): ${describe(cold.bytes)}; List alone ${describe(list.bytes)}`);
    await writer.engine.sync();

    // --- (ii) One edit on the writer, then a sync of each.
    const targets = writer.engine.records().slice(0, EDITS);
    const readerSyncs: ByteCount[] = [];
    const writerSyncs: ByteCount[] = [];
    for (const [index, record] of targets.entries()) {
      await writer.engine.update(record.id, { setFields: [{ name: 'password', value: secret(), sensitive: true }] });
      const written = await writer.proxy.measure(() => writer.engine.sync());
      expectReport(written.result, { pushed: 1, pulled: 1 });
      const read = await reader.proxy.measure(() => reader.engine.sync());
      expectReport(read.result, { transfer: 'events', pushed: 0, pulled: 1 });
      if (reader.engine.record(record.id)!.version !== writer.engine.version) throw new Error('the reader did not get the edit');
      writerSyncs.push(written.bytes);
      readerSyncs.push(read.bytes);
      ctx.progress(`  (ii) edit ${index + 1}: writer (Status + Push + Pull) ${describe(written.bytes)}; reader (Status + Pull of 1 event) ${describe(read.bytes)}`);
    }

    // --- (iii) Nothing new.
    const idle: ByteCount[] = [];
    for (let i = 0; i < IDLE_SYNCS; i++) {
      const nothing = await reader.proxy.measure(() => reader.engine.sync());
      expectReport(nothing.result, { transfer: 'none', pushed: 0, pulled: 0 });
      idle.push(nothing.bytes);
    }
    ctx.progress(`  (iii) nothing new (Status only): ${idle.map(describe).join(', ')}`);

    // Every per-sync figure above was taken on the connection the login opened.
    for (const d of [reader, writer]) {
      if (d.proxy.connectionsOpened() !== 1) throw new Error(`the ${d.name} opened ${d.proxy.connectionsOpened()} connections; expected the one its login opened`);
    }

    const worst = (list: ByteCount[]) => list.reduce((a, b) => (total(b) > total(a) ? b : a));
    const readerWorst = worst(readerSyncs);
    const writerWorst = worst(writerSyncs);
    const idleWorst = worst(idle);
    const pullOne = total(readerWorst) - total(idleWorst);
    const tokenChars = (await reader.client.currentSession())!.accessToken.length;
    ctx.progress(
      `  of the reader's sync, Status is ${count(total(idleWorst))} B and the Pull of 1 event about ${count(pullOne)} B; ` +
        `every call carries the ${tokenChars}-character access token in its headers`,
    );
    const share = (bytes: number) => {
      const percent = (bytes / listBytes) * 100;
      return percent >= 1 ? `${percent.toFixed(1)}%` : `${percent.toPrecision(2)}%`;
    };
    const listCell = `full List ${kib(listBytes)}`;
    const rows: ResultRow[] = [
      {
        benchmark: `sync: reader after 1 edit elsewhere (${count(RECORDS)} records)`,
        figure: `${describe(readerWorst)} (max of ${EDITS})`,
        baseline: listCell,
        ratio: share(total(readerWorst)),
        target: `<= ${count(TARGET_READER_BYTES)} B`,
        verdict: total(readerWorst) <= TARGET_READER_BYTES ? 'PASS' : 'FAIL',
      },
      {
        benchmark: 'sync: writer of that edit (Status+Push+Pull)',
        figure: `${describe(writerWorst)} (max of ${EDITS})`,
        baseline: listCell,
        ratio: share(total(writerWorst)),
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: 'sync: nothing new (Status)',
        figure: describe(idleWorst),
        baseline: listCell,
        ratio: share(total(idleWorst)),
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: 'sync: cold start (Status+List+Pull)',
        figure: describe(cold.bytes),
        baseline: listCell,
        ratio: share(total(cold.bytes)),
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: 'sync: opening a connection (HTTP/2 setup)',
        figure: `+${describe(setup)} once`,
        baseline: `Status on an open connection ${count(total(warmStatus.bytes))} B`,
        ratio: '-',
        target: '-',
        verdict: 'info',
      },
    ];
    return rows;
  },
};

/** A device: its own TCP proxy, session directory, client (logged in through the proxy) and replica. */
async function device(ctx: BenchContext, serverAddress: string, name: string, userId?: string): Promise<Device> {
  const proxy = await startByteProxy(serverAddress);
  ctx.defer(() => proxy.close());
  const home = await mkdtemp(join(tmpdir(), `keeper-bench-sync-${name}-`));
  ctx.defer(() => rm(home, { recursive: true, force: true }));
  const client = new KeeperClient({ server: proxy.address, tls: false }, new FileTokenStore(home, proxy.address));
  ctx.defer(() => client.close());
  const login = await proxy.measure(() => client.login(LOGIN, BENCH_PASSWORD));
  const engine = await SyncEngine.open({ transport: grpcVaultTransport(client), server: proxy.address, home, userId: userId ?? login.result.userId, clientId: `bench-${name}` });
  return { name, proxy, client, engine, login: login.bytes };
}

/** A client that has not connected yet, with another client's session (so its first call is a vault call). */
async function probeClient(ctx: BenchContext, serverAddress: string, from: KeeperClient): Promise<{ proxy: ByteProxy; client: KeeperClient }> {
  const proxy = await startByteProxy(serverAddress);
  ctx.defer(() => proxy.close());
  const home = await mkdtemp(join(tmpdir(), 'keeper-bench-sync-probe-'));
  ctx.defer(() => rm(home, { recursive: true, force: true }));
  const sessions = new FileTokenStore(home, proxy.address);
  await sessions.save((await from.currentSession())!);
  const client = new KeeperClient({ server: proxy.address, tls: false }, sessions);
  ctx.defer(() => client.close());
  return { proxy, client };
}

function expectReport(report: SyncReport, expected: Partial<SyncReport>): void {
  for (const [key, value] of Object.entries(expected)) {
    if (report[key as keyof SyncReport] !== value) throw new Error(`sync report ${JSON.stringify(report)} does not have ${key} = ${JSON.stringify(value)}`);
  }
  if (report.conflicts.length > 0) throw new Error(`unexpected conflicts: ${JSON.stringify(report.conflicts)}`);
}

function total(bytes: Pick<ByteCount, 'sent' | 'received'>): number {
  return bytes.sent + bytes.received;
}

function describe(bytes: Pick<ByteCount, 'sent' | 'received'>): string {
  return `${count(total(bytes))} B (sent ${count(bytes.sent)}, received ${count(bytes.received)})`;
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A login record as a password manager holds it: name, username, password, URL. */
function createdEvent(n: number): NewEvent {
  const id = randomUUID();
  const recordId = randomUUID();
  const fields: Field[] = [
    { name: 'username', value: `person${n}@example.com`, sensitive: false },
    { name: 'password', value: secret(), sensitive: true },
    { name: 'url', value: `https://service-${n}.example.com/login`, sensitive: false },
  ];
  return {
    id,
    type: 'RecordCreated',
    data: { recordId, kind: 'login', name: `Service ${n}`, fields },
    metadata: { mutationId: id, recordId, clientId: 'bench-seed', at: Date.now() },
  };
}

function secret(): string {
  return randomBytes(15).toString('base64');
}
