import { createHash, randomUUID } from 'node:crypto';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMutation } from '../../src/wire/mutations.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { ratio } from './support/format.js';
import { openBenchSchema } from './support/postgres.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import type { Benchmark, BenchContext } from './types.js';

const ROUNDS = 5;
const CHUNK = 64 * 1024;

/**
 * Upload and download throughput of the Images service over loopback gRPC: a large photo sent in
 * 64 KiB chunks (hashed, sniffed, written and fsynced by the server) and read back, each against
 * the same bytes written to / read from a file on the same disk in the same run (the floor the
 * blob store stands on). No target: the issue asks for the figures.
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
    ctx.progress(`  ${megabytes.toFixed(1)} MB; ${ROUNDS} uploads and ${ROUNDS} downloads of it`);

    let uploadMs = 0;
    let imageId = '';
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const response = await client.uploadImage(
        { imageId: randomUUID(), recordId, fileName: 'photo.jpg', declaredType: 'image/jpeg', size: photo.length, sha256, encrypted: false, rendition: Rendition.RENDITION_ORIGINAL },
        () => chunks(photo),
      );
      uploadMs += performance.now() - started;
      imageId = response.image!.id;
    }
    let downloadMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const hash = createHash('sha256');
      let received = 0;
      await client.downloadImage(imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async (chunk) => {
        hash.update(chunk);
        received += chunk.length;
      });
      downloadMs += performance.now() - started;
      if (received !== photo.length || hash.digest('hex') !== sha256) throw new Error('a download did not return the uploaded bytes');
    }
    const disk = await diskFloor(ctx, server.blobDir, photo);
    const up = (megabytes * ROUNDS) / (uploadMs / 1000);
    const down = (megabytes * ROUNDS) / (downloadMs / 1000);
    ctx.progress(`  upload ${up.toFixed(1)} MB/s, download ${down.toFixed(1)} MB/s; disk write+fsync ${disk.write.toFixed(1)} MB/s, read+hash ${disk.read.toFixed(1)} MB/s`);
    return [
      {
        benchmark: `image upload over gRPC (${megabytes.toFixed(1)} MB, 64 KiB chunks, x${ROUNDS})`,
        figure: `${up.toFixed(1)} MB/s`,
        baseline: `${disk.write.toFixed(1)} MB/s same bytes written + fsynced`,
        ratio: ratio(up / disk.write),
        target: '-',
        verdict: 'info',
      },
      {
        benchmark: `image download over gRPC (${megabytes.toFixed(1)} MB, x${ROUNDS})`,
        figure: `${down.toFixed(1)} MB/s`,
        baseline: `${disk.read.toFixed(1)} MB/s same file read + hashed`,
        ratio: ratio(down / disk.read),
        target: '-',
        verdict: 'info',
      },
    ];
  },
};

async function* chunks(bytes: Buffer): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK) yield bytes.subarray(offset, offset + CHUNK);
}

/** The same bytes written (in the same chunks, then fsynced) and read back (hashed) on the blob store's disk. */
async function diskFloor(ctx: BenchContext, dir: string, bytes: Buffer): Promise<{ write: number; read: number }> {
  const path = join(dir, `floor-${randomUUID()}`);
  ctx.defer(() => rm(path, { force: true }));
  let writeMs = 0;
  let readMs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    const file = await open(path, 'w');
    for (let offset = 0; offset < bytes.length; offset += CHUNK) await file.write(bytes.subarray(offset, offset + CHUNK));
    await file.sync();
    await file.close();
    writeMs += performance.now() - started;
    started = performance.now();
    createHash('sha256').update(await readFile(path)).digest('hex');
    readMs += performance.now() - started;
  }
  await writeFile(path, '');
  const megabytes = (bytes.length / (1024 * 1024)) * ROUNDS;
  return { write: megabytes / (writeMs / 1000), read: megabytes / (readMs / 1000) };
}
