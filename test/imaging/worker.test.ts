import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import type { ResizeJob } from '../../src/imaging/queue/job.js';
import type { ImagingPorts, Renditions } from '../../src/imaging/ports.js';
import { MemoryJobQueue } from '../../src/imaging/queue/memory-queue.js';
import type { JobConsumer } from '../../src/imaging/queue/port.js';
import { sniffImageType } from '../../src/imaging/sniff.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { startImagingWorker } from '../../src/imaging/worker.js';
import { pngClaiming } from './support/images.js';
import { makeJob, testLogger, waitFor } from './support/jobs.js';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The worker's ports over maps: a content-addressed blob store and the records the event store would get. */
class MemoryImaging implements ImagingPorts {
  readonly blobs = new Map<string, Buffer>();
  /** imageId -> renditions; recording twice keeps the first, as the idempotent event append does. */
  readonly ready = new Map<string, Renditions>();
  readonly readyCalls: string[] = [];
  readonly failed = new Map<string, string>();
  readonly reads: string[] = [];
  /** Throws this many times from storeRendition before working. */
  storeFailures = 0;
  running = 0;
  peakRunning = 0;

  addOriginal(bytes: Buffer): string {
    const address = sha256(bytes);
    this.blobs.set(address, bytes);
    return address;
  }

  async readOriginal(job: ResizeJob): Promise<Buffer> {
    this.reads.push(job.jobId);
    this.running++;
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      await sleep(20);
      const bytes = this.blobs.get(job.original);
      if (!bytes) throw new Error(`ENOENT: no such file or directory, open '/srv/keeper/blobs/${job.original}'`);
      return bytes;
    } finally {
      this.running--;
    }
  }

  async storeRendition(bytes: Buffer, type: string): Promise<string> {
    if (this.storeFailures > 0) {
      this.storeFailures--;
      throw new Error('the blob volume is full');
    }
    expect(sniffImageType(bytes)).to.equal(type);
    const address = sha256(bytes);
    this.blobs.set(address, bytes);
    return address;
  }

  async renditionsReady(job: ResizeJob, renditions: Renditions): Promise<void> {
    this.readyCalls.push(job.jobId);
    if (!this.ready.has(job.imageId)) this.ready.set(job.imageId, renditions);
  }

  async renditionsFailed(job: ResizeJob, reason: string): Promise<void> {
    if (!this.failed.has(job.imageId)) this.failed.set(job.imageId, reason);
  }
}

describe('imaging worker', function () {
  this.timeout(60_000);

  let queue: MemoryJobQueue;
  let ports: MemoryImaging;
  let worker: JobConsumer;
  let smallPhoto: Buffer;

  before(async function () {
    smallPhoto = await syntheticPhoto({ width: 640, height: 480, seed: 11 });
  });

  beforeEach(function () {
    queue = new MemoryJobQueue({ settings: { ackWaitMs: 1_000, maxDeliveries: 3, backoffMs: [50, 100] }, logger: testLogger() });
    ports = new MemoryImaging();
    worker = startImagingWorker(queue, ports, { concurrency: 2, logger: testLogger() });
  });

  afterEach(async function () {
    await worker.stop({ graceMs: 5_000 });
    await queue.close();
  });

  function jobFor(original: Buffer, overrides: Partial<ResizeJob> = {}): ResizeJob {
    return makeJob({ original: ports.addOriginal(original), type: sniffImageType(original) ?? 'image/jpeg', ...overrides });
  }

  it('makes a 120x120 cover and a compact copy under 1 MB of a 12-megapixel photo, stores and records them', async function () {
    const photo = await syntheticPhoto({ seed: 5 });
    const job = jobFor(photo);
    await queue.publish(job);
    await waitFor('the renditions', () => ports.ready.has(job.imageId), 30_000);
    const { cover, compact } = ports.ready.get(job.imageId)!;
    expect(cover).to.include({ type: 'image/jpeg', width: 120, height: 120 });
    expect(compact.type).to.equal('image/jpeg');
    expect(compact.size).to.be.at.most(1_000_000);
    expect(compact.width / compact.height).to.be.closeTo(4 / 3, 0.01);
    for (const rendition of [cover, compact]) {
      const stored = ports.blobs.get(rendition.address)!;
      expect(stored.length).to.equal(rendition.size);
      const metadata = await sharp(stored).metadata();
      expect([metadata.width, metadata.height]).to.deep.equal([rendition.width, rendition.height]);
    }
    expect(ports.failed.size).to.equal(0);
    expect(queue.store.size).to.equal(0);
  });

  it('records a small web-safe original as its own compact copy: the same blob address, never a bigger copy', async function () {
    const webp = await sharp(smallPhoto).webp({ quality: 80 }).toBuffer();
    const job = jobFor(webp);
    await queue.publish(job);
    await waitFor('the renditions', () => ports.ready.has(job.imageId), 30_000);
    const { cover, compact } = ports.ready.get(job.imageId)!;
    expect(compact).to.deep.include({ address: job.original, type: 'image/webp', size: webp.length });
    expect(cover).to.include({ type: 'image/jpeg', width: 120, height: 120 });
  });

  it('records bad images as failed with the reason, at once and without retrying', async function () {
    const text = jobFor(Buffer.from('this is a shopping list, not a photo'), { type: 'image/png' });
    const truncated = jobFor(smallPhoto.subarray(0, Math.floor(smallPhoto.length * 0.6)));
    const bomb = jobFor(await pngClaiming(30_000, 30_000), { type: 'image/png' });
    for (const job of [text, truncated, bomb]) await queue.publish(job);
    await waitFor('three failures', () => ports.failed.size === 3);
    expect(ports.failed.get(text.imageId)).to.equal('the file is not an image: its first bytes match no image format');
    expect(ports.failed.get(truncated.imageId)).to.match(/^the image could not be decoded: .*premature end/i);
    expect(ports.failed.get(bomb.imageId)).to.equal('the image is 30000 x 30000 pixels (900 megapixels); the limit is 100 megapixels');
    await sleep(300);
    expect(ports.reads, 'each read once: no retries').to.have.length(3);
    expect(ports.ready.size).to.equal(0);
    expect(queue.store.deadLetters().map((letter) => letter.kind)).to.deep.equal(['permanent', 'permanent', 'permanent']);
  });

  it('retries a failure to store and then records the renditions', async function () {
    ports.storeFailures = 1;
    const job = jobFor(smallPhoto);
    await queue.publish(job);
    await waitFor('the renditions', () => ports.ready.has(job.imageId));
    expect(ports.reads).to.have.length(2);
    expect(ports.failed.size).to.equal(0);
  });

  it('records a job that keeps failing as failed, without internal details, once its attempts run out', async function () {
    const job = makeJob({ original: sha256(Buffer.from('never stored')) });
    await queue.publish(job);
    await waitFor('the failure', () => ports.failed.has(job.imageId));
    expect(ports.reads).to.have.length(3);
    const reason = ports.failed.get(job.imageId)!;
    expect(reason).to.equal('the image could not be processed (3 attempts failed); try adding it again later');
    expect(reason).not.to.include('/srv/keeper');
    // Operators keep the detail.
    expect(queue.store.deadLetters()[0]!.reason).to.match(/failed 3 times; the last error: ENOENT/);
  });

  it('handles the same image twice without breaking: the same blobs, recorded once', async function () {
    // Tagged, so its compact copy is made rather than the original itself.
    const first = jobFor(await sharp(smallPhoto).withExif({ IFD0: { Copyright: 'Keeper test' } }).jpeg().toBuffer());
    const again = { ...first, jobId: randomUUID() };
    await queue.publish(first);
    await queue.publish(again);
    await waitFor('both deliveries', () => ports.readyCalls.length === 2);
    expect(ports.readyCalls).to.have.members([first.jobId, again.jobId]);
    expect(ports.ready.size).to.equal(1);
    // The original plus exactly one cover and one compact copy: the renditions came out byte for byte the same.
    expect(ports.blobs.size).to.equal(3);
    expect(ports.failed.size).to.equal(0);
  });

  it('resizes at most `concurrency` images at once', async function () {
    const jobs = Array.from({ length: 6 }, (_, n) => jobFor(smallPhoto, { imageId: `image-${n}` }));
    for (const job of jobs) await queue.publish(job);
    await waitFor('all six', () => ports.ready.size === 6);
    expect(ports.peakRunning).to.equal(2);
  });

  it('logs and drops a malformed message without touching the ports', async function () {
    queue.store.enqueue(new TextEncoder().encode('{"resize":"everything"}'), undefined, 60_000);
    const good = jobFor(smallPhoto);
    await queue.publish(good);
    await waitFor('the good job', () => ports.ready.has(good.imageId));
    await waitFor('the dead letter', () => queue.store.deadLetters().length === 1);
    expect(ports.failed.size).to.equal(0);
    expect(ports.reads).to.deep.equal([good.jobId]);
  });
});
