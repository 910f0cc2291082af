import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobNotFound, type BlobReader, type BlobStore, type BlobWriter } from './blob-store.js';
import { makeDirectory } from '../../lib/writable-dir.js';

const ADDRESS = /^[0-9a-f]{64}$/;

/**
 * Blobs as files under one directory (a volume in Docker): `ab/cd/abcd…` by address, written to
 * `tmp/` first, fsynced, then renamed into place, so a crash never leaves a half blob at an address.
 */
export class FileBlobStore implements BlobStore {
  private readonly tmp: string;

  private constructor(private readonly root: string) {
    this.tmp = join(root, 'tmp');
  }

  static async open(root: string): Promise<FileBlobStore> {
    const store = new FileBlobStore(root);
    await makeDirectory(store.tmp);
    return store;
  }

  async begin(): Promise<BlobWriter> {
    const path = join(this.tmp, `${randomUUID()}.part`);
    const handle = await open(path, 'wx', 0o600);
    return new FileBlobWriter(path, handle, (temp, address) => this.place(temp, address));
  }

  async put(bytes: Uint8Array): Promise<string> {
    const writer = await this.begin();
    try {
      await writer.write(bytes);
      return await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  async read(address: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(address));
    } catch (error) {
      throw notFound(error, address);
    }
  }

  async openReader(address: string, start = 0): Promise<BlobReader> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(address), 'r');
    } catch (error) {
      throw notFound(error, address);
    }
    let position = start;
    let closed = false;
    return {
      async read(into) {
        // A short read before the end of a regular file is possible, so fill until full or the end.
        let filled = 0;
        while (filled < into.byteLength) {
          const { bytesRead } = await handle.read(into, filled, into.byteLength - filled, position);
          if (bytesRead === 0) break;
          filled += bytesRead;
          position += bytesRead;
        }
        return filled;
      },
      async close() {
        if (closed) return;
        closed = true;
        await handle.close();
      },
    };
  }

  async stat(address: string): Promise<{ size: number; modifiedAt: number } | null> {
    try {
      const info = await stat(this.pathOf(address));
      return { size: info.size, modifiedAt: info.mtimeMs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async remove(address: string): Promise<void> {
    try {
      await unlink(this.pathOf(address));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async sweepTemporary(before: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.tmp)) {
      const path = join(this.tmp, name);
      const info = await stat(path).catch(() => null);
      if (!info || info.mtimeMs >= before) continue;
      await unlink(path).catch(() => undefined);
      removed++;
    }
    return removed;
  }

  async *list(): AsyncIterable<{ address: string; size: number; modifiedAt: number }> {
    for (const first of await readdir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(first)) continue;
      for (const second of await readdir(join(this.root, first))) {
        for (const name of await readdir(join(this.root, first, second))) {
          if (!ADDRESS.test(name)) continue;
          const info = await this.stat(name);
          if (info) yield { address: name, ...info };
        }
      }
    }
  }

  private pathOf(address: string): string {
    if (!ADDRESS.test(address)) throw new BlobNotFound(address);
    return join(this.root, address.slice(0, 2), address.slice(2, 4), address);
  }

  private async place(temp: string, address: string): Promise<void> {
    const target = this.pathOf(address);
    if (await this.stat(address)) {
      // Same address, same bytes: the blob is already there.
      await unlink(temp);
      return;
    }
    const dir = join(this.root, address.slice(0, 2), address.slice(2, 4));
    await makeDirectory(dir);
    await rename(temp, target);
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/**
 * Bytes reach the file in batches of about this size: an upload arrives in 64 KiB chunks, and a
 * write per chunk (a trip to libuv's thread pool each) cost more than the network did.
 */
const BATCH_BYTES = 1024 * 1024;
/** And at most this many chunks in one batch (a system's writev takes 1024 pieces at a time). */
const BATCH_CHUNKS = 1024;
/**
 * While an upload arrives, the disk is told to write back what the file holds every so many bytes
 * (an fdatasync in the background, never waited for by the upload), so the sync before the commit
 * finds little left to write. In bench transfer (11.5 MB) that sync took 8 ms, now 3, and the
 * upload ratio went from 0.44-0.46 to 0.49-0.51 of the disk's figure in alternating runs.
 */
const WRITE_BACK_BYTES = 4 * 1024 * 1024;

class FileBlobWriter implements BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  private done = false;
  /** The file holds every byte written, durably (nothing written since the last sync). */
  private synced = false;
  /** Chunks not yet handed to the file, kept by reference (no copy: see `write`). */
  private batch: Uint8Array[] = [];
  private batched = 0;
  /** The batch being written now (one at a time, while the next one gathers). */
  private writing: Promise<void> = Promise.resolve();
  /** The background write-back under way, if any (see WRITE_BACK_BYTES). */
  private writingBack: Promise<void> | undefined;
  /** Bytes the file has been handed, and how many of them it held when the last write-back began. */
  private inFile = 0;
  private writtenBackFrom = 0;
  private failure: unknown;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly placeAt: (temp: string, address: string) => Promise<void>,
  ) {}

  get size(): number {
    return this.written;
  }

  /**
   * Resolves once the chunk is taken; the file may get it later (`flush`, `commit`). The chunk is
   * kept as it is until then, so the caller must not change its bytes after passing it.
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error('blob writer is closed');
    if (this.failure) throw this.failure;
    this.hash.update(chunk);
    this.written += chunk.byteLength;
    this.synced = false;
    this.batch.push(chunk);
    this.batched += chunk.byteLength;
    if (this.batched >= BATCH_BYTES || this.batch.length >= BATCH_CHUNKS) await this.handOver();
  }

  async flush(): Promise<void> {
    if (this.batched > 0) await this.handOver();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  async sync(): Promise<void> {
    if (this.done) throw new Error('blob writer is closed');
    const upTo = this.written;
    await this.flush();
    await this.writingBack;
    if (this.failure) throw this.failure;
    await this.handle.sync();
    // (A chunk taken meanwhile may not be in the file yet: then the commit syncs again.)
    if (this.written === upTo) this.synced = true;
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }

  async commit(): Promise<string> {
    if (this.done) throw new Error('blob writer is closed');
    await this.flush();
    this.done = true;
    const address = this.hash.digest('hex');
    try {
      await this.writingBack;
      if (this.failure) throw this.failure;
      if (!this.synced) await this.handle.sync();
    } catch (error) {
      // Bytes that may not be on the disk are not placed, and the temporary file goes now.
      await this.handle.close().catch(() => undefined);
      await unlink(this.path).catch(() => undefined);
      throw error;
    }
    await this.handle.close();
    await this.placeAt(this.path, address);
    return address;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.writing;
    await this.writingBack;
    await this.handle.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  /** Waits for the batch before to be written, then starts writing this one without waiting. */
  private async handOver(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
    const chunks = this.batch;
    const bytes = this.batched;
    this.batch = [];
    this.batched = 0;
    this.writing = writeAll(this.handle, chunks).then(
      () => this.wroteBatch(bytes),
      (error: unknown) => {
        this.failure = error;
      },
    );
  }

  /** Starts a write-back of the file when enough has reached it since the last one, unless one is under way. */
  private wroteBatch(bytes: number): void {
    this.inFile += bytes;
    if (this.writingBack !== undefined || this.done || this.inFile - this.writtenBackFrom < WRITE_BACK_BYTES) return;
    this.writtenBackFrom = this.inFile;
    // A failed write-back means bytes may not be on the disk: the commit must not go ahead.
    this.writingBack = this.handle.datasync().then(
      () => {
        this.writingBack = undefined;
      },
      (error: unknown) => {
        this.failure ??= error;
        this.writingBack = undefined;
      },
    );
  }
}

/** Every chunk, in order, however many writes the file takes them in. */
async function writeAll(handle: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    // A short write: drop what went out, and go on from the first byte that did not.
    let index = 0;
    while (index < rest.length && bytesWritten >= rest[index]!.byteLength) bytesWritten -= rest[index++]!.byteLength;
    rest = rest.slice(index);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

function notFound(error: unknown, address: string): Error {
  return (error as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFound(address) : (error as Error);
}
