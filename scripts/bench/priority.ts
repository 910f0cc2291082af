import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { createMutation } from '../../src/wire/mutations.js';
import { ratio } from './support/format.js';
import { percentile } from './support/load.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import { seedVaults } from './support/seed-vaults.js';
import type { Benchmark } from './types.js';

const IMAGE_USERS = 4;
const DOWNLOADS = 20;
const DATA_USERS = 40;
const CHUNK = 64 * 1024;
const TARGET_P99_RATIO = 1.5;
const TARGET_IMAGE_SHARE = 0.9;

/**
 * Data requests against image downloads on one server. 20 downloads of a 12 MP photo by 4 users
 * run without pause; a client asks List and Pull of 40 other users in turn (every tenth a first
 * load: Pull from version 0 of a user never loaded). Data request latency is measured with that
 * image load and alone, in one run; image throughput is measured alone and, under the mixed load,
 * over the moments no data request was being answered (sampled from the server's scheduler).
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
    const imageUsers: Array<{ client: KeeperClient; imageId: string }> = [];
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
      imageUsers.push({ client, imageId: uploaded.image!.id });
    }
    const seeded = await seedVaults(ctx, server, { users: DATA_USERS, records: 100, fields: 6, sealedFields: 1, prefix: 'bench-priority', seed: 0x5eed_0015 });
    const dataClients = seeded.map((user) => {
      const store = new MemoryTokenStore();
      void store.save(user.session);
      const client = new KeeperClient({ server: server.address, tls: false }, store, 30_000, 'bench-priority');
      ctx.defer(() => client.close());
      return client;
    });

    let request = 0;
    /** One data request: List, or Pull from the start (a first load) every tenth, else Pull of the last few. */
    async function dataRequest(): Promise<number> {
      const n = request++;
      const client = dataClients[n % dataClients.length]!;
      const started = performance.now();
      if (n % 10 === 0) await client.pull(0, () => undefined);
      else if (n % 2 === 0) await client.list();
      else await client.pull(95, () => undefined);
      return performance.now() - started;
    }
    async function dataPhase(ms: number): Promise<number[]> {
      const latencies: number[] = [];
      const until = performance.now() + ms;
      // Two clients in turn, with a short think time: a stream of requests, not a flood.
      await Promise.all(
        [0, 1].map(async () => {
          while (performance.now() < until) {
            latencies.push(await dataRequest());
            await sleep(5);
          }
        }),
      );
      return latencies;
    }

    let downloading = false;
    const downloaders: Promise<void>[] = [];
    function startDownloads(): void {
      downloading = true;
      for (let d = 0; d < DOWNLOADS; d++) {
        const user = imageUsers[d % IMAGE_USERS]!;
        downloaders.push(
          (async () => {
            while (downloading) {
              let received = 0;
              await user.client.downloadImage(user.imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async (chunk) => {
                received += chunk.length;
              });
              if (received !== photo.length) throw new Error('a download came back short');
            }
          })(),
        );
      }
    }
    async function stopDownloads(): Promise<void> {
      downloading = false;
      await Promise.all(downloaders.splice(0));
    }
    /** Image bytes per second over the samples where no data request was being answered. */
    async function sampleImages(ms: number, onlyIdle: boolean): Promise<number> {
      let bytes = 0;
      let time = 0;
      let last = scheduler.snapshot();
      let lastAt = performance.now();
      const until = lastAt + ms;
      while (performance.now() < until) {
        await sleep(10);
        const now = scheduler.snapshot();
        const at = performance.now();
        if (!onlyIdle || (last.dataInFlight === 0 && now.dataInFlight === 0)) {
          bytes += now.bytesOut.image - last.bytesOut.image;
          time += at - lastAt;
        }
        last = now;
        lastAt = at;
      }
      return time > 0 ? bytes / (1024 * 1024) / (time / 1000) : 0;
    }

    const phaseMs = Math.max(3_000, ctx.durationMs / 2);
    ctx.progress(`data requests alone for ${phaseMs / 1000} s (warm-up ${ctx.warmupMs / 1000} s first)`);
    await dataPhase(ctx.warmupMs);
    const idle = await dataPhase(phaseMs);

    ctx.progress(`${DOWNLOADS} downloads of ${(photo.length / 1e6).toFixed(1)} MB alone for ${phaseMs / 1000} s`);
    startDownloads();
    await sleep(ctx.warmupMs);
    const alone = await sampleImages(phaseMs, false);

    ctx.progress(`data requests with the downloads running for ${phaseMs / 1000} s`);
    const pausesBefore = scheduler.snapshot().pauses;
    const [loaded, mixed] = await Promise.all([dataPhase(phaseMs), sampleImages(phaseMs, true)]);
    const pauses = scheduler.snapshot().pauses - pausesBefore;
    await stopDownloads();

    const p = (values: number[], q: number) => percentile(values, q);
    const idleP99 = p(idle, 99);
    const loadedP99 = p(loaded, 99);
    ctx.progress(
      `  data alone p50 ${p(idle, 50).toFixed(1)} ms p99 ${idleP99.toFixed(1)} ms (${idle.length} requests); with images p50 ${p(loaded, 50).toFixed(1)} ms p99 ${loadedP99.toFixed(1)} ms (${loaded.length}); ` +
        `images alone ${alone.toFixed(1)} MB/s, with data (no data waiting) ${mixed.toFixed(1)} MB/s; ${pauses} pauses`,
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
