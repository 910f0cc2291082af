import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createLogger } from '../../src/logging.js';
import type { ImagingPorts, Renditions } from '../../src/imaging/ports.js';
import { MemoryJobQueue } from '../../src/imaging/queue/memory-queue.js';
import type { JobConsumer } from '../../src/imaging/queue/port.js';
import { COVER_SIZE, DEFAULT_COMPACT_MAX_BYTES } from '../../src/imaging/renditions.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { startImagingWorker } from '../../src/imaging/worker.js';
import { ratio } from './support/format.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';

const run = promisify(execFile);

const TARGET_RATIO = 5;
/** Fewest measured rounds per phase, whatever the duration. */
const MIN_ROUNDS = 3;
const MAX_ROUNDS = 50;
/** ImageMagick's KB is 1024 bytes: 976 KB is the largest whole number under the worker's 1,000,000-byte budget. */
const IMAGEMAGICK_EXTENT = '976KB';

/* Upload and download throughput over loopback gRPC (MB/s) is the `transfer` benchmark (transfer.ts). */

/**
 * The imaging worker making the cover and the compact copy of a generated 12-megapixel photo,
 * one image at a time and `cores` at a time, against ImageMagick making the same two outputs in
 * one `convert` run per image (decoded once, like the worker).
 *
 * The judged row is one image at a time: one image through each tool, as the issue compares them.
 * `cores` at a time is reported beside it: there both tools fill both cores, and the ratio tends to
 * the ratio of CPU time an image (also reported).
 *
 * The machine is shared, so the two take turns: each round gives the worker a batch and
 * ImageMagick the same batch, alternating who goes first, and each side's time is summed over
 * the rounds. A load that comes and goes then weighs on both alike.
 */
export const resizeBenchmark: Benchmark = {
  name: 'resize',
  description: 'cover + compact copy of a 12-megapixel JPEG by the imaging worker (sharp); baseline: ImageMagick convert',
  needsPostgres: false,
  async run(ctx) {
    const convert = await findImageMagick(ctx);
    const dir = await mkdtemp(join(tmpdir(), 'keeper-bench-resize-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));

    ctx.progress('generating a 12-megapixel photo-like JPEG');
    const photo = await syntheticPhoto({ seed: 1 });
    const { width, height } = await sharp(photo).metadata();
    const photoPath = join(dir, 'photo.jpg');
    await writeFile(photoPath, photo);
    ctx.progress(`  ${width} x ${height}, ${megabytes(photo.length)}`);

    const cores = availableParallelism();
    const phases = [
      { label: 'one image at a time', concurrency: 1, judged: true },
      { label: `${cores} at a time (cores)`, concurrency: cores, judged: false },
    ];
    const rows: ResultRow[] = [];
    const cpu = { worker: 0, convert: 0, images: 0 };
    let sample: { worker: Renditions; convert: ImageMagickOutput } | undefined;
    for (const phase of phases) {
      const worker = await RunningWorker.start(photo, phase.concurrency);
      ctx.defer(() => worker.stop());
      const magick = new ImageMagickRunner(convert, photoPath, dir);
      ctx.progress(`${phase.label}: warming up both`);
      const warm = { worker: await worker.batch(phase.concurrency), convert: await magick.batch(phase.concurrency) };
      const roundMs = warm.worker.ms + warm.convert.ms;
      const rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.ceil(ctx.durationMs / phases.length / roundMs)));
      ctx.progress(`${phase.label}: ${rounds} rounds of ${phase.concurrency} image${phase.concurrency > 1 ? 's' : ''} each, taking turns`);

      const total = { worker: { ms: 0, cpuMs: 0 }, convert: { ms: 0, cpuMs: 0 } };
      for (let round = 0; round < rounds; round++) {
        const turns = round % 2 === 0 ? (['worker', 'convert'] as const) : (['convert', 'worker'] as const);
        for (const turn of turns) {
          const result = turn === 'worker' ? await worker.batch(phase.concurrency) : await magick.batch(phase.concurrency);
          total[turn].ms += result.ms;
          total[turn].cpuMs += result.cpuMs;
        }
      }
      await worker.stop();
      sample = { worker: worker.last!, convert: magick.last! };

      const images = rounds * phase.concurrency;
      const workerRate = images / (total.worker.ms / 1000);
      const convertRate = images / (total.convert.ms / 1000);
      ctx.progress(`  worker (sharp):      ${rateOf(workerRate)}, ${(total.worker.cpuMs / images).toFixed(0)} ms of CPU an image`);
      ctx.progress(`  ImageMagick convert: ${rateOf(convertRate)}, ${(total.convert.cpuMs / images).toFixed(0)} ms of CPU an image`);
      cpu.worker += total.worker.cpuMs;
      cpu.convert += total.convert.cpuMs;
      cpu.images += images;

      const speedup = workerRate / convertRate;
      rows.push({
        benchmark: `resize 12 MP, ${phase.label}${phase.judged ? ' [judged]' : ''}`,
        figure: `${rateOf(workerRate)} worker (sharp)`,
        baseline: `${rateOf(convertRate)} ImageMagick convert`,
        ratio: ratio(speedup),
        target: phase.judged ? `>= ${TARGET_RATIO}x` : '-',
        verdict: phase.judged ? (speedup >= TARGET_RATIO ? 'PASS' : 'FAIL') : 'info',
      });
    }
    rows.push({
      benchmark: 'resize 12 MP, CPU time an image',
      figure: `${(cpu.worker / cpu.images).toFixed(0)} ms worker (sharp)`,
      baseline: `${(cpu.convert / cpu.images).toFixed(0)} ms ImageMagick convert`,
      ratio: ratio(cpu.convert / cpu.worker),
      target: '-',
      verdict: 'info',
    });
    if (sample) {
      const { worker, convert: magick } = sample;
      rows.push({
        benchmark: 'resize 12 MP, compact copy',
        figure: `${worker.compact.width} x ${worker.compact.height}, ${megabytes(worker.compact.size)}`,
        baseline: `${magick.compactWidth} x ${magick.compactHeight}, ${megabytes(magick.compactBytes)}`,
        ratio: '-',
        target: `<= ${megabytes(DEFAULT_COMPACT_MAX_BYTES)}`,
        verdict: 'info',
      });
    }
    return rows;
  },
};

interface Batch {
  ms: number;
  /** CPU the batch used, every thread of the worker or every convert process. */
  cpuMs: number;
}

/** The real worker over the in-process queue; the ports keep the original in memory and only hash what they store. */
class RunningWorker {
  last: Renditions | undefined;
  private waiting: { left: number; done: () => void; failed: (error: Error) => void } | undefined;
  private stopped = false;

  private constructor(
    private readonly original: string,
    private readonly queue: MemoryJobQueue,
    private readonly consumer: JobConsumer,
  ) {}

  static async start(photo: Buffer, concurrency: number): Promise<RunningWorker> {
    const logger = createLogger('silent', 'bench-resize');
    const queue = new MemoryJobQueue({ logger, settings: { ackWaitMs: 600_000 } });
    let self: RunningWorker | undefined;
    const ports: ImagingPorts = {
      readOriginal: async () => photo,
      storeRendition: async (bytes) => createHash('sha256').update(bytes).digest('hex'),
      renditionsReady: async (_job, renditions) => self!.ready(renditions),
      renditionsFailed: async (_job, reason) => self!.waiting?.failed(new Error(`the worker failed an image: ${reason}`)),
    };
    const consumer = startImagingWorker(queue, ports, { concurrency, logger });
    self = new RunningWorker(createHash('sha256').update(photo).digest('hex'), queue, consumer);
    return self;
  }

  /** Queues `images` jobs at once and waits until all are recorded. */
  async batch(images: number): Promise<Batch> {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const finished = new Promise<void>((done, failed) => (this.waiting = { left: images, done, failed }));
    for (let n = 0; n < images; n++) {
      await this.queue.publish({ jobId: randomUUID(), userId: 'bench', imageId: randomUUID(), original: this.original, type: 'image/jpeg' });
    }
    await finished;
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const { cover, compact } = this.last!;
    if (cover.width !== COVER_SIZE || cover.height !== COVER_SIZE) throw new Error(`the worker's cover is ${cover.width} x ${cover.height}`);
    if (compact.size > DEFAULT_COMPACT_MAX_BYTES) throw new Error(`the worker's compact copy is ${compact.size} bytes`);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.stop();
    await this.queue.close();
  }

  private ready(renditions: Renditions): void {
    this.last = renditions;
    if (this.waiting && --this.waiting.left === 0) this.waiting.done();
  }
}

interface ImageMagickOutput {
  compactBytes: number;
  compactWidth: number;
  compactHeight: number;
}

/** Runs convert `images` times at once; each run makes both outputs from one decoding. */
class ImageMagickRunner {
  last: ImageMagickOutput | undefined;

  constructor(
    private readonly convert: string,
    private readonly photoPath: string,
    private readonly dir: string,
  ) {}

  async batch(images: number): Promise<Batch> {
    const cpuBefore = childrenCpuMs();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: images }, (_, n) =>
        run(this.convert, imageMagickArgs(this.photoPath, join(this.dir, `cover-${n}.jpg`), join(this.dir, `compact-${n}.jpg`))),
      ),
    );
    const ms = performance.now() - started;
    const cpuMs = childrenCpuMs() - cpuBefore;
    const cover = await sharp(await readFile(join(this.dir, 'cover-0.jpg'))).metadata();
    if (cover.width !== COVER_SIZE || cover.height !== COVER_SIZE) throw new Error(`ImageMagick's cover is ${cover.width} x ${cover.height}`);
    const compact = await readFile(join(this.dir, 'compact-0.jpg'));
    const compactMetadata = await sharp(compact).metadata();
    if (compact.length > DEFAULT_COMPACT_MAX_BYTES) throw new Error(`ImageMagick's compact copy is ${compact.length} bytes`);
    this.last = { compactBytes: compact.length, compactWidth: compactMetadata.width!, compactHeight: compactMetadata.height! };
    return { ms, cpuMs };
  }
}

/** CPU of this process's finished children (convert runs), from /proc/self/stat; 0 off Linux. */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime, in clock ticks of 1/100 s.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return 0;
  }
}

/** Upright, metadata stripped; a 120x120 centre crop written on the way, then the copy squeezed under the budget by quality. */
function imageMagickArgs(input: string, cover: string, compact: string): string[] {
  return [
    input,
    '-auto-orient',
    '-strip',
    '(', '+clone', '-resize', `${COVER_SIZE}x${COVER_SIZE}^`, '-gravity', 'center', '-extent', `${COVER_SIZE}x${COVER_SIZE}`, '-quality', '80', '-write', cover, '+delete', ')',
    '-define', `jpeg:extent=${IMAGEMAGICK_EXTENT}`,
    compact,
  ];
}

/**
 * A real ImageMagick: /usr/bin/convert (the `convert` first on this PATH may be a stand-in that
 * only turns PNG into PPM), else `magick` (ImageMagick 7). Installs Debian's package when neither
 * is there.
 */
async function findImageMagick(ctx: BenchContext): Promise<string> {
  const found = await realImageMagick();
  if (found) {
    ctx.progress(`ImageMagick: ${found.binary} (${found.version})`);
    return found.binary;
  }
  if (process.getuid?.() !== 0) {
    throw new Error('ImageMagick is not installed (the convert on PATH is not ImageMagick); install it with `apt-get install -y imagemagick` and run again');
  }
  ctx.progress('ImageMagick is not installed; installing Debian\'s imagemagick package with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'imagemagick'], { env, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    ctx.progress('  the package lists look stale; running apt-get update first');
    await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'imagemagick'], { env, maxBuffer: 64 * 1024 * 1024 });
  }
  const installed = await realImageMagick();
  if (!installed) throw new Error('apt-get installed imagemagick, yet neither /usr/bin/convert nor magick reports ImageMagick');
  ctx.progress(`ImageMagick: ${installed.binary} (${installed.version})`);
  return installed.binary;
}

async function realImageMagick(): Promise<{ binary: string; version: string } | undefined> {
  for (const binary of ['/usr/bin/convert', '/usr/bin/magick', '/usr/local/bin/magick']) {
    try {
      await access(binary);
      const { stdout } = await run(binary, ['-version']);
      const first = stdout.split('\n')[0] ?? '';
      if (/ImageMagick/.test(first)) return { binary, version: first.replace(/^Version:\s*/, '').trim() };
    } catch {
      // Not there, or not ImageMagick: try the next one.
    }
  }
  return undefined;
}

function rateOf(imagesPerSecond: number): string {
  return `${imagesPerSecond.toFixed(2)} images/s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(2)} MB`;
}
