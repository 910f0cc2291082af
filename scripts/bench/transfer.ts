import { createHash, randomUUID } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMutation } from '../../src/wire/mutations.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { ratio } from './support/format.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark } from './types.js';

const ROUNDS = 8;
const CHUNK = 64 * 1024;
/** The target: each transfer at least this share of the disk's figure for the same bytes. */
const TARGET_RATIO = 0.4;

/**
 * Upload and download throughput of the Images service over loopback gRPC: a large photo sent in
 * 64 KiB chunks (hashed, sniffed, written and fsynced by the server) and read back, each against
 * the same bytes written to / read from a file on the same disk (the floor the blob store stands
 * on). One round of each is a warm-up; then every round does all four in turn, so a machine
 * busy with something else slows the transfers and their floor alike.
 */
export const transferBenchmark: Benchmark = {
  name: 'transfer',
  description: 'image upload and download throughput over loopback gRPC; baseline: the same bytes written and read on disk',
  needsPostgres: true,
  async run(ctx) {
    const { db } = await openBenchSchema(ctx, 'transfer');
    // Renditions off: the resize worker would otherwise share the two cores with the transfers.
    const server = await startBenchServer(ctx, db, { imaging: false });
    const { client } = await server.client();
    await client.register('bench-images', BENCH_PASSWORD);
    const create = createMutation({ kind: 'note', name: 'scans', fields: [] });
    await client.push({ expectedVersion: 0, clientId: 'bench', mutations: [create] });
    const recordId = create.change?.$case === 'create' ? create.change.value.recordId : '';

    ctx.progress('generating a photo-like JPEG (6000 x 4000, quality 95)');
    const photo = await syntheticPhoto({ width: 6000, height: 4000, quality: 95, seed: 11 });
    const megabytes = photo.length / (1024 * 1024);
    const sha256 = createHash('sha256').update(photo).digest('hex');
    const floorPath = join(server.blobDir, `floor-${randomUUID()}`);
    ctx.defer(() => rm(floorPath, { force: true }));

    const upload = async () => {
      const response = await client.uploadImage(
        { imageId: randomUUID(), recordId, fileName: 'photo.jpg', declaredType: 'image/jpeg', size: photo.length, sha256, encrypted: false, rendition: Rendition.RENDITION_ORIGINAL },
        () => chunks(photo),
      );
      return response.image!.id;
    };
    const download = async (imageId: string) => {
      const hash = createHash('sha256');
      let received = 0;
      await client.downloadImage(imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async (chunk) => {
        hash.update(chunk);
        received += chunk.length;
      });
      if (received !== photo.length || hash.digest('hex') !== sha256) throw new Error('a download did not return the uploaded bytes');
    };

    ctx.progress(`  ${megabytes.toFixed(1)} MB; a warm-up round, then ${ROUNDS} rounds of upload, disk write, download, disk read`);
    await download(await upload());
    await diskWrite(floorPath, photo);
    await diskRead(floorPath);
    const ms = { upload: 0, write: 0, download: 0, read: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const imageId = await timed(ms, 'upload', upload);
      await timed(ms, 'write', () => diskWrite(floorPath, photo));
      await timed(ms, 'download', () => download(imageId));
      await timed(ms, 'read', () => diskRead(floorPath));
    }
    const mbps = (total: number) => (megabytes * ROUNDS) / (total / 1000);
    const up = mbps(ms.upload);
    const down = mbps(ms.download);
    const write = mbps(ms.write);
    const read = mbps(ms.read);
    ctx.progress(`  upload ${up.toFixed(1)} MB/s, download ${down.toFixed(1)} MB/s; disk write+fsync ${write.toFixed(1)} MB/s, read+hash ${read.toFixed(1)} MB/s`);
    return [
      {
        benchmark: `image upload over gRPC (${megabytes.toFixed(1)} MB, 64 KiB chunks, x${ROUNDS})`,
        figure: `${up.toFixed(1)} MB/s`,
        baseline: `${write.toFixed(1)} MB/s same bytes written + fsynced`,
        ratio: ratio(up / write),
        target: `ratio >= ${TARGET_RATIO}`,
        verdict: up / write >= TARGET_RATIO ? 'PASS' : 'FAIL',
      },
      {
        benchmark: `image download over gRPC (${megabytes.toFixed(1)} MB, x${ROUNDS})`,
        figure: `${down.toFixed(1)} MB/s`,
        baseline: `${read.toFixed(1)} MB/s same file read + hashed`,
        ratio: ratio(down / read),
        target: `ratio >= ${TARGET_RATIO}`,
        verdict: down / read >= TARGET_RATIO ? 'PASS' : 'FAIL',
      },
    ];
  },
};

async function timed<K extends string, T>(totals: Record<K, number>, key: K, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  totals[key] += performance.now() - started;
  return result;
}

async function* chunks(bytes: Buffer): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK) yield bytes.subarray(offset, offset + CHUNK);
}

/** The same bytes written to a file on the blob store's disk, in the same chunks, then fsynced. */
async function diskWrite(path: string, bytes: Buffer): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let offset = 0; offset < bytes.length; offset += CHUNK) await file.write(bytes.subarray(offset, offset + CHUNK));
    await file.sync();
  } finally {
    await file.close();
  }
}

/** The file read back and hashed, as a download's client checks it. */
async function diskRead(path: string): Promise<void> {
  createHash('sha256').update(await readFile(path)).digest('hex');
}
