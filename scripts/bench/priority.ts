import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { createMutation } from '../../src/wire/mutations.js';
import { lines, stopChild } from './support/child-lines.js';
import { ratio } from './support/format.js';
import { percentile } from './support/load.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { DataInput, DownloadsInput } from './support/priority-child.js';
import { seedVaults } from './support/seed-vaults.js';
import type { Benchmark, BenchContext } from './types.js';

const IMAGE_USERS = 4;
const DOWNLOADS = 20;
const DATA_USERS = 40;
const CHUNK = 64 * 1024;
const ROUNDS = 3;
const TARGET_P99_RATIO = 1.5;
const TARGET_IMAGE_SHARE = 0.9;

/**
 * Data requests against image downloads on one server. 20 downloads of a 12 MP photo by 4 users
 * run without pause; a client asks List and Pull of 40 other users in turn (every tenth a first
 * load: Pull from version 0 of a user never loaded). Both kinds of client run in processes of
 * their own, as on other machines: the server's process does the server's work only, and the
 * downloads client runs at the lowest CPU priority (see startChild). Data request
 * latency is measured with that image load and alone, in one run; image throughput is measured
 * alone and, under the mixed load, over the time no data request was being answered (the
 * server's scheduler keeps that time).
 */
export const priorityBenchmark: Benchmark = {
  name: 'priority',
  description: '20 concurrent 12 MP downloads against a stream of List/Pull of other users; baselines: the data requests alone, the downloads alone',
  needsPostgres: true,
  async run(ctx) {
    const { db } = await openBenchSchema(ctx, 'priority', 20);
    const server = await startBenchServer(ctx, db, { imaging: false });
    const scheduler = server.app.grpc.scheduler;

    ctx.progress('generating a 12 MP photo-like JPEG (4000 x 3000, quality 95)');
    const photo = await syntheticPhoto({ width: 4000, height: 3000, quality: 95, seed: 12 });
    const sha256 = createHash('sha256').update(photo).digest('hex');
    const imageUsers: DownloadsInput['users'] = [];
    for (let u = 0; u < IMAGE_USERS; u++) {
      const { client } = await server.client();
      await client.register(`bench-priority-img-${u}-${randomUUID().slice(0, 6)}`, BENCH_PASSWORD);
      const create = createMutation({ kind: 'note', name: 'photos', fields: [] });
      await client.push({ expectedVersion: 0, clientId: 'bench', mutations: [create] });
      const recordId = create.change?.$case === 'create' ? create.change.value.recordId : '';
      const uploaded = await client.uploadImage(
        { imageId: randomUUID(), recordId, fileName: 'photo.jpg', declaredType: 'image/jpeg', size: photo.length, sha256, encrypted: false, rendition: Rendition.RENDITION_ORIGINAL },
        async function* () {
          for (let offset = 0; offset < photo.length; offset += CHUNK) yield photo.subarray(offset, offset + CHUNK);
        },
      );
      imageUsers.push({ session: (await client.currentSession())!, imageId: uploaded.image!.id });
    }
    const seeded = await seedVaults(ctx, server, { users: DATA_USERS, records: 100, fields: 6, sealedFields: 1, prefix: 'bench-priority', seed: 0x5eed_0015 });

    const dir = await mkdtemp(join(tmpdir(), 'keeper-bench-priority-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const downloadsInput: DownloadsInput = { role: 'downloads', address: server.address, users: imageUsers, downloads: DOWNLOADS, size: photo.length };
    const dataInput: DataInput = { role: 'data', address: server.address, sessions: seeded.map((user) => user.session) };
    const downloads = await startChild(ctx, dir, downloadsInput);
    const data = await startChild(ctx, dir, dataInput);
    const dataPhase = async (ms: number): Promise<number[]> => {
      data.child.stdin!.write(`phase ${ms}\n`);
      return (await data.messages.next((m) => 'latencies' in m)).latencies as number[];
    };

    // Rounds of (data alone, downloads alone, data with downloads): each p99 comes from a few
    // thousand requests instead of a few hundred (one phase's p99 was its 7th-slowest request),
    // and a machine that slows down for a while slows both sides of a round alike.
    const phaseMs = Math.max(3_000, ctx.durationMs / 2);
    const idle: number[] = [];
    const loaded: number[] = [];
    const totals = { aloneBytes: 0, aloneMs: 0, imageBytes: 0, dataFreeMs: 0, mixedMs: 0, pauses: 0, bytesDuringData: 0 };
    ctx.progress(`data requests alone: a warm-up of ${ctx.warmupMs / 1000} s`);
    await dataPhase(ctx.warmupMs);
    for (let round = 1; round <= ROUNDS; round++) {
      ctx.progress(`round ${round} of ${ROUNDS}: data alone, ${DOWNLOADS} downloads of ${(photo.length / 1e6).toFixed(1)} MB alone, then both, ${phaseMs / 1000} s each`);
      idle.push(...(await dataPhase(phaseMs)));

      downloads.child.stdin!.write('start\n');
      await downloads.messages.next((m) => 'started' in m);
      await sleep(ctx.warmupMs);
      const aloneStart = scheduler.snapshot();
      await sleep(phaseMs);
      const aloneEnd = scheduler.snapshot();
      totals.aloneBytes += aloneEnd.bytesOut.image - aloneStart.bytesOut.image;
      totals.aloneMs += aloneEnd.dataFreeMs - aloneStart.dataFreeMs;

      const mixedStart = scheduler.snapshot();
      const mixedStartedAt = performance.now();
      loaded.push(...(await dataPhase(phaseMs)));
      const mixedEnd = scheduler.snapshot();
      totals.mixedMs += performance.now() - mixedStartedAt;
      downloads.child.stdin!.write('stop-downloads\n');
      await downloads.messages.next((m) => 'stopped' in m);
      // Images go only while no data request is being answered (the scheduler's own clock of that
      // time): their throughput then, against the downloads alone, says whether they are slowed
      // beyond the pauses data asks for.
      totals.imageBytes += mixedEnd.bytesOut.image - mixedStart.bytesOut.image;
      totals.dataFreeMs += mixedEnd.dataFreeMs - mixedStart.dataFreeMs;
      totals.pauses += mixedEnd.pauses - mixedStart.pauses;
      totals.bytesDuringData += mixedEnd.imageBytesDuringData - mixedStart.imageBytesDuringData;
    }
    const alone = mbPerSecond(totals.aloneBytes, totals.aloneMs);
    const mixed = mbPerSecond(totals.imageBytes, totals.dataFreeMs);
    const { imageBytes, dataFreeMs, mixedMs, pauses } = totals;

    const p = (values: number[], q: number) => percentile(values, q);
    const idleP99 = p(idle, 99);
    const loadedP99 = p(loaded, 99);
    ctx.progress(
      `  data alone p50 ${p(idle, 50).toFixed(1)} ms p99 ${idleP99.toFixed(1)} ms (${idle.length} requests); with images p50 ${p(loaded, 50).toFixed(1)} ms p99 ${loadedP99.toFixed(1)} ms (${loaded.length}); ` +
        `images alone ${alone.toFixed(1)} MB/s; with data ${mbPerSecond(imageBytes, mixedMs).toFixed(1)} MB/s overall, no data waiting ${((100 * dataFreeMs) / mixedMs).toFixed(0)}% of the time, ` +
        `${mixed.toFixed(1)} MB/s then; ${pauses} pauses, ${(totals.bytesDuringData / 1e6).toFixed(1)} MB sent while data was answered (past maxPauseMs)`,
    );
    return [
      {
        benchmark: `data p99 under ${DOWNLOADS} downloads (List/Pull, ${loaded.length} requests)`,
        figure: `p50 ${p(loaded, 50).toFixed(1)} ms, p99 ${loadedP99.toFixed(1)} ms`,
        baseline: `alone p50 ${p(idle, 50).toFixed(1)} ms, p99 ${idleP99.toFixed(1)} ms`,
        ratio: ratio(loadedP99 / idleP99),
        target: `<= ${TARGET_P99_RATIO}x`,
        verdict: loadedP99 <= TARGET_P99_RATIO * idleP99 ? 'PASS' : 'FAIL',
      },
      {
        benchmark: `image throughput while no data waits (${DOWNLOADS} downloads, ${IMAGE_USERS} users)`,
        figure: `${mixed.toFixed(1)} MB/s`,
        baseline: `${alone.toFixed(1)} MB/s downloads alone`,
        ratio: ratio(mixed / alone),
        target: `>= ${TARGET_IMAGE_SHARE}x`,
        verdict: mixed >= TARGET_IMAGE_SHARE * alone ? 'PASS' : 'FAIL',
      },
    ];
  },
};

function mbPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? bytes / (1024 * 1024) / (ms / 1000) : 0;
}

/** A process of the benchmark's clients (support/priority-child.ts), stopped when the benchmark ends. */
async function startChild(ctx: BenchContext, dir: string, input: DownloadsInput | DataInput): Promise<{ child: ChildProcess; messages: ReturnType<typeof lines> }> {
  const inputPath = join(dir, `${input.role}.json`);
  await writeFile(inputPath, JSON.stringify(input), { mode: 0o600 });
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'priority-child.ts'), inputPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  ctx.defer(() => stopChild(child));
  // The downloads client stands for other machines' load: on the bench's own cores it takes what
  // the server, PostgreSQL and the data client leave, instead of slowing the client whose
  // latency is measured (at the same priority it doubled the data client's own share of p99).
  if (input.role === 'downloads') setPriority(child.pid!, 19);
  const messages = lines(child, `${input.role} client`);
  await messages.next((m) => 'ready' in m);
  return { child, messages };
}
