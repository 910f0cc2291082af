import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BlobNotFound } from '../../src/server/blobs/blob-store.js';
import { FileBlobStore } from '../../src/server/blobs/file-blob-store.js';

/** The writer gathers chunks into batches before they reach the file; what lands must be exact. */
describe('the file blob store writer', function () {
  let dir: string;
  let store: FileBlobStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-blob-writer-'));
    store = await FileBlobStore.open(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores 3.3 MB sent in uneven chunks byte for byte, under the address of its sha256', async () => {
    const bytes = randomBytes(3_300_001);
    const writer = await store.begin();
    // Uneven sizes, so chunks straddle the batch boundaries, and runs of tiny ones, so a batch
    // also ends on its count of chunks.
    for (let offset = 0, index = 0; offset < bytes.length; index++) {
      const count = Math.min(bytes.length - offset, index % 3000 < 1500 ? 1 + (index % 7) : 1 + ((offset * 7) % 100_003));
      await writer.write(bytes.subarray(offset, offset + count));
      offset += count;
    }
    expect(writer.size).to.equal(bytes.length);
    await writer.flush();
    expect((await readFile(writer.path)).equals(bytes), 'the temporary file after flush').to.equal(true);
    const address = await writer.commit();
    expect(address).to.equal(createHash('sha256').update(bytes).digest('hex'));
    expect((await store.read(address)).equals(bytes)).to.equal(true);
    expect(await readdir(join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('syncs before the commit, which then only places the file; bytes written after a sync are synced by the commit', async () => {
    // The writer's own file handle, its fsyncs counted (the directory's are not: another handle).
    const counted = async () => {
      const writer = await store.begin();
      const handle = (writer as unknown as { handle: { sync(): Promise<void> } }).handle;
      const realSync = handle.sync.bind(handle);
      const counter = { syncs: 0 };
      handle.sync = () => {
        counter.syncs++;
        return realSync();
      };
      return { writer, counter };
    };
    const first = randomBytes(1_200_000);
    const later = randomBytes(300_000);

    const synced = await counted();
    await synced.writer.write(first);
    await synced.writer.sync();
    expect(synced.counter.syncs, 'the sync').to.equal(1);
    expect((await readFile(synced.writer.path)).equals(first), 'the temporary file after sync').to.equal(true);
    const address = await synced.writer.commit();
    expect(synced.counter.syncs, 'a commit right after a sync does not sync the file again').to.equal(1);
    expect((await store.read(address)).equals(first)).to.equal(true);

    const grown = await counted();
    await grown.writer.write(first);
    await grown.writer.sync();
    await grown.writer.write(later);
    const both = Buffer.concat([first, later]);
    const grownAddress = await grown.writer.commit();
    expect(grown.counter.syncs, 'bytes came after the sync: the commit syncs the file again').to.equal(2);
    expect(grownAddress).to.equal(createHash('sha256').update(both).digest('hex'));
    expect((await store.read(grownAddress)).equals(both)).to.equal(true);

    const plain = await counted();
    await plain.writer.write(later);
    await plain.writer.commit();
    expect(plain.counter.syncs, 'a commit without a sync before it').to.equal(1);
    const late = await plain.writer.sync().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(late)).to.match(/closed/);
  });

  it('writes a large upload back to the disk as it arrives, one write-back at a time; a failed one fails the commit', async () => {
    const watched = async (fail: boolean) => {
      const writer = await store.begin();
      const handle = (writer as unknown as { handle: { datasync(): Promise<void> } }).handle;
      const realDatasync = handle.datasync.bind(handle);
      const counter = { started: 0, running: 0, mostRunning: 0 };
      handle.datasync = async () => {
        counter.started++;
        counter.mostRunning = Math.max(counter.mostRunning, ++counter.running);
        try {
          await realDatasync();
          if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        } finally {
          counter.running--;
        }
      };
      return { writer, counter };
    };
    const bytes = randomBytes(10 * 1024 * 1024);
    const chunks = function* () {
      for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
    };

    const good = await watched(false);
    for (const chunk of chunks()) await good.writer.write(chunk);
    const address = await good.writer.commit();
    expect(good.counter.started, '10 MiB in: a write-back every 4 MiB or so, not one per batch').to.be.within(1, 2);
    expect(good.counter.mostRunning).to.equal(1);
    expect(good.counter.running, 'the commit waited for the write-back').to.equal(0);
    expect((await store.read(address)).equals(bytes)).to.equal(true);

    const bad = await watched(true);
    let failure: unknown;
    try {
      for (const chunk of chunks()) await bad.writer.write(chunk);
      await bad.writer.commit();
    } catch (error) {
      failure = error;
      await bad.writer.abort();
    }
    expect(String(failure), 'bytes that may not be on the disk are not committed').to.match(/EIO/);
    expect(bad.counter.started).to.be.greaterThan(0);
    expect(await readdir(join(dir, 'tmp'))).to.deep.equal([]);
  });

  it('leaves nothing behind when aborted halfway', async () => {
    const writer = await store.begin();
    await writer.write(randomBytes(1_500_000));
    await writer.abort();
    expect(await readdir(join(dir, 'tmp'))).to.deep.equal([]);
    expect(await readdir(dir)).to.deep.equal(['tmp']);
  });

  it('stores an empty and a small blob too', async () => {
    const small = Buffer.from('tiny');
    expect(await store.read(await store.put(small))).to.deep.equal(small);
    const empty = await store.put(Buffer.alloc(0));
    expect(empty).to.equal(createHash('sha256').digest('hex'));
    expect((await store.read(empty)).length).to.equal(0);
  });
});

/** Downloads read a blob into one buffer they lend, from an offset when resumed. */
describe('the file blob store reader', function () {
  let dir: string;
  let store: FileBlobStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-blob-reader-'));
    store = await FileBlobStore.open(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Every byte from `start`, read into one reused buffer of `size` bytes; the reads' lengths too. */
  async function readAll(address: string, start: number, size: number): Promise<{ bytes: Buffer; reads: number[] }> {
    const reader = await store.openReader(address, start);
    const into = Buffer.alloc(size);
    const pieces: Buffer[] = [];
    const reads: number[] = [];
    try {
      for (let filled = await reader.read(into); filled > 0; filled = await reader.read(into)) {
        reads.push(filled);
        pieces.push(Buffer.from(into.subarray(0, filled)));
      }
    } finally {
      await reader.close();
    }
    return { bytes: Buffer.concat(pieces), reads };
  }

  it('fills the lent buffer piece by piece, the last piece short, then answers 0', async () => {
    const bytes = randomBytes(2_500_000);
    const address = await store.put(bytes);
    const { bytes: read, reads } = await readAll(address, 0, 1024 * 1024);
    expect(read.equals(bytes)).to.equal(true);
    expect(reads).to.deep.equal([1_048_576, 1_048_576, 2_500_000 - 2 * 1_048_576]);
  });

  it('starts at an offset (a resumed download), and at the end reads nothing', async () => {
    const bytes = randomBytes(300_000);
    const address = await store.put(bytes);
    expect((await readAll(address, 123_457, 65_536)).bytes.equals(bytes.subarray(123_457))).to.equal(true);
    expect((await readAll(address, bytes.length, 65_536)).reads).to.deep.equal([]);
  });

  it('says BlobNotFound for an address it does not hold, and closes twice without harm', async () => {
    const missing = createHash('sha256').update('never stored').digest('hex');
    const failure = await store.openReader(missing).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(BlobNotFound);
    const reader = await store.openReader(await store.put(Buffer.from('x')));
    await reader.close();
    await reader.close();
  });
});
