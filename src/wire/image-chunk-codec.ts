import type { ImageServiceService } from '../gen/keeper/v1/images.js';

/** `bytes chunk = 2` in UploadImageRequest and DownloadImageResponse: field 2, length-delimited. */
const CHUNK_TAG = (2 << 3) | 2;

interface ChunkMessage {
  part?: { $case: 'chunk'; value: Buffer } | { $case: string; value: unknown } | undefined;
}

export interface LeanChunkOptions {
  /**
   * The server's side: download chunks are encoded into one buffer reused for every chunk. grpc-js
   * copies a serialized response into a framed buffer of its own before the serializer's caller
   * returns (server-interceptors' serializeMessage), so the encoding is dead by the next chunk.
   * Every fresh buffer of a download's bytes counts towards V8's external memory, whose growth
   * starts full collections: at 250 MB/s of downloads, one every 200 ms, and their pauses were
   * most of a data request's tail under image load. Not for a client: its upload path may copy
   * the bytes after an await.
   */
  reuseDownloadBytes?: boolean;
}

/** One buffer, grown to the largest chunk message seen. */
class Scratch {
  private buffer = Buffer.allocUnsafe(0);

  take(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(Math.max(size, 2 * this.buffer.length));
    return this.buffer.subarray(0, size);
  }
}

/**
 * The Images service with the chunk messages of uploads and downloads encoded and decoded without
 * ts-proto's copies. Its encoder grows a buffer by doubling (a fresh zeroed 128 KiB for a 64 KiB
 * chunk), copies the chunk in, copies the result out, and `Buffer.from` copies it once more; its
 * decoder copies the chunk out of the message. Here a chunk message is written with one copy and
 * read as a view into the message bytes grpc-js hands over (a fresh buffer per message). Any
 * other message (a header, or a chunk message with more fields than the chunk) takes the
 * codecs of `service` (the generated ones, or the server's strict wrapping of them), so the bytes
 * on the wire are the same either way.
 */
export function withLeanChunks<S extends typeof ImageServiceService>(service: S, options: LeanChunkOptions = {}): S {
  const { uploadImage, downloadImage } = service;
  const scratch = options.reuseDownloadBytes ? new Scratch() : undefined;
  return {
    ...service,
    uploadImage: {
      ...uploadImage,
      requestSerialize: (value: Parameters<typeof uploadImage.requestSerialize>[0]) => encodeChunk(value) ?? uploadImage.requestSerialize(value),
      requestDeserialize: (bytes: Buffer) => decodeChunk(bytes) ?? uploadImage.requestDeserialize(bytes),
    },
    downloadImage: {
      ...downloadImage,
      responseSerialize: (value: Parameters<typeof downloadImage.responseSerialize>[0]) => encodeChunk(value, scratch) ?? downloadImage.responseSerialize(value),
      responseDeserialize: (bytes: Buffer) => decodeChunk(bytes) ?? downloadImage.responseDeserialize(bytes),
    },
  };
}

function encodeChunk(message: ChunkMessage, scratch?: Scratch): Buffer | undefined {
  if (message.part?.$case !== 'chunk') return undefined;
  const chunk = message.part.value as Uint8Array;
  const length = chunk.byteLength;
  let prefix = 2;
  for (let rest = length >>> 7; rest > 0; rest >>>= 7) prefix++;
  const out = scratch ? scratch.take(prefix + length) : Buffer.allocUnsafe(prefix + length);
  out[0] = CHUNK_TAG;
  let at = 1;
  let rest = length;
  while (rest > 0x7f) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[at++] = rest;
  out.set(chunk, at);
  return out;
}

/** A message that is exactly one chunk field, as a view into `bytes`; undefined for anything else. */
function decodeChunk<T>(bytes: Buffer): T | undefined {
  if (bytes.length < 2 || bytes[0] !== CHUNK_TAG) return undefined;
  let length = 0;
  let at = 1;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) return undefined;
    const byte = bytes[at++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      if (at + length !== bytes.length) return undefined;
      return { part: { $case: 'chunk', value: Buffer.from(bytes.buffer, bytes.byteOffset + at, length) } } as T;
    }
  }
  return undefined;
}
