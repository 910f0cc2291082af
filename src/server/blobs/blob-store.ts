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
  /** The blob's bytes from `start` on (0: all of them), read into buffers the caller lends; BlobNotFound when there is no such blob. */
  openReader(address: string, start?: number): Promise<BlobReader>;
  /** Size in bytes, or null when there is no such blob. */
  stat(address: string): Promise<{ size: number; modifiedAt: number } | null>;
  remove(address: string): Promise<void>;
  /** Removes unfinished writes (a crashed upload) started before `before` (Unix ms); answers how many. */
  sweepTemporary(before: number): Promise<number>;
  /** Every stored blob, for collection. */
  list(): AsyncIterable<{ address: string; size: number; modifiedAt: number }>;
}

/**
 * A blob being read in order. The caller lends the buffer each read fills, so a download can
 * read every piece into one buffer of its own instead of a fresh one per piece (see the image
 * handlers: fresh buffers of image bytes start V8's full collections).
 */
export interface BlobReader {
  /** Fills `into` from its start with the next bytes; answers how many (fewer only at the end, 0 past it). */
  read(into: Uint8Array): Promise<number>;
  close(): Promise<void>;
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
  /**
   * Puts every byte written so far into the file and makes them durable, so that `commit` after
   * it only places them: an upload inspects the file while the disk syncs it.
   */
  sync(): Promise<void>;
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
