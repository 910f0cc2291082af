import type { ServerReadableStream, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { blobAddressSchema, imageFileNameSchema } from '../../domain/images.js';
import { recordIdSchema } from '../../domain/record.js';
import { hasNoControlCharacters, NO_CONTROL_CHARACTERS } from '../../domain/text.js';
import type {
  DownloadImageRequest,
  DownloadImageResponse,
  ImageServiceServer,
  UploadImageRequest,
  UploadImageResponse,
} from '../../gen/keeper/v1/images.js';
import type { ImageService, UploadHeader } from '../images/image-service.js';
import { DownloadBuffers } from './download-buffers.js';
import { ImageRequestRejected } from '../images/upload-errors.js';
import { toGrpcStatus } from './errors.js';
import { verifiedUser } from './auth-interceptor.js';
import { unary } from './unary.js';
import { LARGE_IMAGE_CHUNK_BYTES, type OutgoingScheduler } from './outgoing-scheduler.js';
import { downloadHeaderToWire, imageToWire, renditionFromWire } from '../../wire/images.js';
import { CHUNK_FRAME_ROOM, framedChunk } from '../../wire/image-chunk-codec.js';

const renditionSchema = z.number().transform((value, ctx) => {
  const rendition = renditionFromWire(value);
  if (!rendition) {
    ctx.addIssue({ code: 'custom', message: 'must be ORIGINAL, COVER or COMPACT' });
    return z.NEVER;
  }
  return rendition;
});

const uploadHeaderSchema = z.object({
  imageId: recordIdSchema,
  recordId: recordIdSchema,
  fileName: imageFileNameSchema,
  declaredType: z.string().max(100, 'must be at most 100 characters').refine(hasNoControlCharacters, NO_CONTROL_CHARACTERS),
  size: z.number().int().positive('must be more than 0 bytes'),
  sha256: blobAddressSchema,
  encrypted: z.boolean(),
  rendition: renditionSchema.pipe(z.enum(['original', 'cover'], { message: 'an upload is the ORIGINAL or the COVER of a sealed image' })),
});

const downloadSchema = z.object({ imageId: recordIdSchema, rendition: renditionSchema, offset: z.number().int('must be a whole number of bytes').nonnegative() });
const listSchema = z.object({ recordId: recordIdSchema });
const deleteSchema = z.object({ imageId: recordIdSchema });

/** A sealed image's cover is the client's 120x120 cover: the server stores it as stated. */
const SEALED_COVER_SIDE = 120;


export function imageHandlers(images: ImageService, logger: Logger, out: OutgoingScheduler): ImageServiceServer {
  // A piece read from disk is the largest chunk the scheduler may let go at once; it cuts smaller
  // ones from it as views. (Idle ones kept: enough for a burst of downloads starting as others end.)
  const pieces = new DownloadBuffers(CHUNK_FRAME_ROOM + LARGE_IMAGE_CHUNK_BYTES, 8);
  return {
    uploadImage: (call: ServerReadableStream<UploadImageRequest, UploadImageResponse>, callback: sendUnaryData<UploadImageResponse>) => {
      const run = async (): Promise<UploadImageResponse> => {
        const userId = verifiedUser(call);
        const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadImageRequest>;
        const first = await messages.next();
        if (first.done || first.value.part?.$case !== 'header') {
          throw new ImageRequestRejected('invalid', 'an upload starts with a header (image id, record id, file name, type, size, sha256)');
        }
        const parsed = uploadHeaderSchema.parse(first.value.part.value);
        const header: UploadHeader = {
          ...parsed,
          ...(parsed.rendition === 'cover' ? { coverWidth: SEALED_COVER_SIDE, coverHeight: SEALED_COVER_SIDE } : {}),
        };
        const outcome = await images.upload(userId, header, chunksOf(messages));
        return { image: imageToWire(outcome.image), version: outcome.version, duplicate: outcome.duplicate };
      };
      run().then(
        (response) => callback(null, response),
        (error: unknown) => {
          // A call already ended (the client went away, or a malformed chunk was refused) breaks
          // the message stream; that is not the server's failure and must not log a stack per call.
          if (call.cancelled) logger.debug({ method: 'UploadImage' }, 'upload ended before it was complete');
          else callback(toGrpcStatus(error, logger));
        },
      );
    },

    downloadImage: (call: ServerWritableStream<DownloadImageRequest, DownloadImageResponse>) => {
      const run = async () => {
        const userId = verifiedUser(call);
        const { imageId, rendition, offset } = downloadSchema.parse(call.request);
        const end = out.beginDownload(userId);
        call.on('cancelled', end);
        let opened;
        let buffer: Buffer | undefined;
        try {
          opened = await images.download(userId, imageId, rendition, offset);
        } catch (error) {
          end();
          throw error;
        }
        try {
          const header: DownloadImageResponse = { part: { $case: 'header', value: downloadHeaderToWire(opened) } };
          if (!(await out.send(call, header, 'data'))) return;
          // The image lane: chunks wait while data requests are answered, and take turns between
          // users; HTTP/2 flow control makes a slow reader pause the file, never fill memory.
          // Each piece is read into the download's own buffer, after room for a chunk's frame, and
          // each chunk is framed in place (framedChunk: its frame's prefix goes over bytes already
          // sent) and handed to HTTP/2 as it is. The buffer is used again, by the next piece or
          // another download, only once every chunk's write was called back.
          buffer = pieces.take();
          const room = buffer.subarray(CHUNK_FRAME_ROOM);
          for (let filled = await opened.reader.read(room); filled > 0; filled = await opened.reader.read(room)) {
            // Cut to the size the scheduler allows at this moment.
            for (let at = CHUNK_FRAME_ROOM, end = CHUNK_FRAME_ROOM + filled; at < end; ) {
              const length = Math.min(out.imageChunkBytes(), end - at);
              const sent = await out.send(call, framedChunk(buffer, at, length), 'image', userId, length);
              if (!sent) {
                // A write may still hold the buffer: it goes to the collector, not to another download.
                buffer = undefined;
                return;
              }
              at += length;
            }
            if (filled < room.length) break;
          }
        } finally {
          await opened.reader.close().catch(() => undefined);
          if (buffer) pieces.give(buffer);
          end();
        }
        call.end();
      };
      run().catch((error: unknown) => {
        if (call.cancelled) return;
        const grpcStatus = toGrpcStatus(error, logger);
        call.emit('error', Object.assign(new Error(grpcStatus.details), grpcStatus));
      });
    },

    listImages: unary(logger, async (call) => {
      const { recordId } = listSchema.parse(call.request);
      const list = await images.list(verifiedUser(call), recordId);
      return { images: list.map(imageToWire) };
    }),

    deleteImage: unary(logger, async (call) => {
      const { imageId } = deleteSchema.parse(call.request);
      return { version: await images.remove(verifiedUser(call), imageId) };
    }),
  };
}

/** The chunk messages after the header, as bytes; a second header is an error. */
async function* chunksOf(messages: AsyncIterator<UploadImageRequest>): AsyncIterable<Uint8Array> {
  for (;;) {
    const next = await messages.next();
    if (next.done) return;
    const part = next.value.part;
    if (part?.$case !== 'chunk') throw new ImageRequestRejected('invalid', 'an upload has one header, then only chunks');
    yield part.value;
  }
}
