import type { ImageServiceService } from '../gen/keeper/v1/images.js';

/** `bytes chunk = 2` in UploadImageRequest and DownloadImageResponse: field 2, length-delimited. */
const CHUNK_TAG = (2 << 3) | 2;

interface ChunkMessage {
  part?: { $case: 'chunk'; value: Buffer } | { $case: string; value: unknown } | undefined;
}

/**
 * The Images service with the chunk messages of uploads and downloads encoded and decoded without
 * ts-proto's copies. Its encoder grows a buffer by doubling (a fresh zeroed 128 KiB for a 64 KiB
 * chunk), copies the chunk in, copies the result out, and `Buffer.from` copies it once more; its
 * decoder copies the chunk out of the message. Here a chunk message is written with one copy and
 * read as a view into the message bytes grpc-js hands over (a fresh buffer per message); the
 * server's download chunks come framed already (framedChunk), and are given as a view. Any
 * other message (a header, or a chunk message with more fields than the chunk) takes the
 * codecs of `service` (the generated ones, or the server's strict wrapping of them), so the bytes
 * on the wire are the same either way.
 */
export function withLeanChunks<S extends typeof ImageServiceService>(service: S): S {
  const { uploadImage, downloadImage } = service;
  return {
    ...service,
    uploadImage: {
      ...uploadImage,
      requestSerialize: (value: Parameters<typeof uploadImage.requestSerialize>[0]) => encodeChunk(value) ?? uploadImage.requestSerialize(value),
      requestDeserialize: (bytes: Buffer) => decodeChunk(bytes) ?? uploadImage.requestDeserialize(bytes),
    },
    downloadImage: {
      ...downloadImage,
      responseSerialize: (value: Parameters<typeof downloadImage.responseSerialize>[0]) => encodeChunk(value) ?? downloadImage.responseSerialize(value),
      responseDeserialize: (bytes: Buffer) => decodeChunk(bytes) ?? downloadImage.responseDeserialize(bytes),
    },
  };
}

/**
 * A download chunk message whose bytes already sit in a whole gRPC frame (see framedChunk): the
 * frame itself, under this key of the message.
 */
export const PRE_FRAMED = Symbol('keeper.preFramedChunk');

/** Room a chunk needs before its bytes for framedChunk: gRPC's 5-byte prefix, the field's tag, and a length of up to 3 bytes. */
export const CHUNK_FRAME_ROOM = 9;

/**
 * A download chunk message for bytes [start, start + length) of `buffer`, framed in place: the
 * gRPC prefix and the field's tag and length are written into the bytes right before `start`
 * (up to CHUNK_FRAME_ROOM of them, whatever they held), so the whole frame is one view and
 * nothing is copied. The bytes before `start` must no longer be needed, by anyone (a previous
 * chunk of the same buffer must have been written out).
 */
export function framedChunk(buffer: Buffer, start: number, length: number): { part: { $case: 'chunk'; value: Buffer }; [PRE_FRAMED]: Buffer } {
  if (length >= 2 ** 21) throw new RangeError('a framed chunk is under 2 MiB');
  const lengthBytes = length < 0x80 ? 1 : length < 0x4000 ? 2 : 3;
  const frameStart = start - 6 - lengthBytes;
  if (frameStart < 0) throw new RangeError('no room before the chunk for its frame');
  buffer[frameStart] = 0; // not compressed
  buffer.writeUInt32BE(1 + lengthBytes + length, frameStart + 1);
  writeChunkKey(buffer, frameStart + 5, length);
  return { part: { $case: 'chunk', value: buffer.subarray(start, start + length) }, [PRE_FRAMED]: buffer.subarray(frameStart, start + length) };
}

function encodeChunk(message: ChunkMessage): Buffer | undefined {
  // Already encoded in its frame: the message's bytes are the frame's after gRPC's prefix.
  const framed = (message as { [PRE_FRAMED]?: Buffer })[PRE_FRAMED];
  if (framed !== undefined) return framed.subarray(5);
  if (message.part?.$case !== 'chunk') return undefined;
  const chunk = message.part.value as Uint8Array;
  const length = chunk.byteLength;
  let prefix = 2;
  for (let rest = length >>> 7; rest > 0; rest >>>= 7) prefix++;
  const out = Buffer.allocUnsafe(prefix + length);
  out.set(chunk, writeChunkKey(out, 0, length));
  return out;
}

/** Writes the chunk field's tag and its length (a varint) at `at`; answers where the chunk's bytes go. */
function writeChunkKey(out: Buffer, at: number, length: number): number {
  out[at++] = CHUNK_TAG;
  let rest = length;
  while (rest > 0x7f) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[at++] = rest;
  return at;
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
