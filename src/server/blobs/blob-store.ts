import type { Readable } from 'node:stream';

/**
 * Content-addressed bytes (images and their renditions). The address is the hex SHA-256 of the
 * bytes, so a blob is written once however many images share it, and a reader can check it.
 */
export interface BlobStore {
  /** Starts writing a blob whose address is known only at the end. */
  begin(): Promise<BlobWriter>;
  /** Stores bytes already in memory (a rendition) and returns their address. */
  put(bytes: Uint8Array): Promise<string>;
  read(address: string): Promise<Buffer>;
  /** The blob as a stream of chunks of at most `chunkBytes`. */
  /** The blob's bytes from `start` on (0: all of them). */
  open(address: string, chunkBytes: number, start?: number): Readable;
  /** Size in bytes, or null when there is no such blob. */
  stat(address: string): Promise<{ size: number; modifiedAt: number } | null>;
  remove(address: string): Promise<void>;
  /** Removes unfinished writes (a crashed upload) started before `before` (Unix ms); answers how many. */
  sweepTemporary(before: number): Promise<number>;
  /** Every stored blob, for collection. */
  list(): AsyncIterable<{ address: string; size: number; modifiedAt: number }>;
}

/**
 * A blob being written: bytes go to a temporary file and are hashed on the way; nothing is
 * visible under an address until `commit`, and `abort` leaves nothing behind.
 */
export interface BlobWriter {
  /** Takes the chunk, which may reach the file later: the caller must not change its bytes after. */
  write(chunk: Uint8Array): Promise<void>;
  /** Puts every byte written so far into the file at `path`. */
  flush(): Promise<void>;
  readonly size: number;
  /** The temporary file, for inspecting the bytes (after `flush`) before they are committed. */
  readonly path: string;
  /** The address the bytes written so far would have. */
  digest(): string;
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export class BlobNotFound extends Error {
  constructor(readonly address: string) {
    super(`blob ${address} is not in the store`);
    this.name = 'BlobNotFound';
  }
}
