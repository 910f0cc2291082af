import { z } from 'zod';
import { DomainError } from './errors.js';
import { LIMITS, SEALED_PREFIX } from './limits.js';
import { recordIdSchema } from './record.js';

/**
 * Images belong to a record of the user's vault. Their bytes live in the blob store (addressed by
 * SHA-256); the events below, in the user's stream like every other change, say which image is
 * attached where and which renditions exist.
 */

export const IMAGE_RENDITIONS = ['original', 'cover', 'compact'] as const;
export type ImageRendition = (typeof IMAGE_RENDITIONS)[number];

/** Content address of a blob: the lower-case hex SHA-256 of its bytes. */
export const blobAddressSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be a SHA-256 in hex (64 characters)')
  .transform((hex) => hex.toLowerCase());

export const imageFileNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.sealedImageFileNameMax, `must be at most ${LIMITS.imageFileNameMax} characters`)
  .refine((name) => name.startsWith(SEALED_PREFIX) || name.length <= LIMITS.imageFileNameMax, `must be at most ${LIMITS.imageFileNameMax} characters`)
  .refine((name) => !/[/\\\u0000-\u001f]/.test(name), 'must be a plain file name (no slashes or control characters)');

/** A media type as sniffed by the server, or application/octet-stream for a sealed image. */
export const imageTypeSchema = z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, 'must be a media type such as image/jpeg').max(100);

export const renditionInfoSchema = z.object({
  address: blobAddressSchema,
  type: imageTypeSchema,
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
});
export type RenditionInfo = z.infer<typeof renditionInfoSchema>;

export const imageAttachedSchema = z.object({
  imageId: recordIdSchema,
  recordId: recordIdSchema,
  fileName: imageFileNameSchema,
  /** The original as uploaded (for a sealed image: its ciphertext; type application/octet-stream). */
  original: renditionInfoSchema,
  /** Sealed on the client: the server never saw the picture, so it makes no renditions. */
  encrypted: z.boolean(),
});

export const imageRenditionsReadySchema = z.object({
  imageId: recordIdSchema,
  recordId: recordIdSchema,
  cover: renditionInfoSchema,
  /** Absent for a sealed image: its client made and sealed only the cover. */
  compact: renditionInfoSchema.optional(),
});

export const imageRenditionsFailedSchema = z.object({
  imageId: recordIdSchema,
  recordId: recordIdSchema,
  reason: z.string().min(1).max(LIMITS.imageFailureMax),
});

export const imageDetachedSchema = z.object({
  imageId: recordIdSchema,
  recordId: recordIdSchema,
});

export type ImageAttachedData = z.infer<typeof imageAttachedSchema>;
export type ImageEventData =
  | { type: 'ImageAttached'; data: ImageAttachedData }
  | { type: 'ImageRenditionsReady'; data: z.infer<typeof imageRenditionsReadySchema> }
  | { type: 'ImageRenditionsFailed'; data: z.infer<typeof imageRenditionsFailedSchema> }
  | { type: 'ImageDetached'; data: z.infer<typeof imageDetachedSchema> };

export const imageEventDataSchemas = {
  ImageAttached: imageAttachedSchema,
  ImageRenditionsReady: imageRenditionsReadySchema,
  ImageRenditionsFailed: imageRenditionsFailedSchema,
  ImageDetached: imageDetachedSchema,
} as const;

export function isImageEvent<E extends { type: string }>(event: E): event is E & { type: ImageEventData['type'] } {
  return Object.hasOwn(imageEventDataSchemas, event.type);
}

/**
 * `processing` until the worker's renditions are in (or it gave up: `failed`); a sealed image is
 * `ready` at once, since only its client can make a cover.
 */
export type ImageStatus = 'processing' | 'ready' | 'failed';

export interface ImageState {
  id: string;
  recordId: string;
  fileName: string;
  original: RenditionInfo;
  encrypted: boolean;
  status: ImageStatus;
  cover?: RenditionInfo | undefined;
  compact?: RenditionInfo | undefined;
  failure?: string | undefined;
  createdAt: number;
  /** Stream version of the event that last changed the image. */
  version: number;
  detachedAt: number | null;
}

/** The image after one of its events; like `evolve`, it never refuses a fact. */
export function evolveImage(state: ImageState | undefined, event: ImageEventData & { version: number; metadata: { at: number } }): ImageState | undefined {
  const at = event.metadata.at;
  switch (event.type) {
    case 'ImageAttached':
      return {
        id: event.data.imageId,
        recordId: event.data.recordId,
        fileName: event.data.fileName,
        original: event.data.original,
        encrypted: event.data.encrypted,
        status: event.data.encrypted ? 'ready' : 'processing',
        createdAt: at,
        version: event.version,
        detachedAt: null,
      };
    case 'ImageRenditionsReady':
      if (!state) return state;
      return { ...state, status: 'ready', cover: event.data.cover, compact: event.data.compact, failure: undefined, version: event.version };
    case 'ImageRenditionsFailed':
      if (!state) return state;
      return { ...state, status: 'failed', failure: event.data.reason, version: event.version };
    case 'ImageDetached':
      if (!state) return state;
      return { ...state, detachedAt: at, version: event.version };
  }
}

/** What a finished upload attaches, decided against the record and any image with that id. */
export function decideAttachImage(
  attach: ImageAttachedData,
  record: { deletedAt: number | null } | undefined,
  existing: ImageState | undefined,
  imagesOnRecord: number,
): ImageEventData | 'duplicate' {
  if (existing) {
    // A retried upload of the same bytes under the same id is the same attachment.
    if (existing.original.address === attach.original.address && existing.recordId === attach.recordId) return 'duplicate';
    throw new DomainError('image_exists', `image ${attach.imageId} already exists`);
  }
  if (!record) throw new DomainError('record_not_found', `record ${attach.recordId} does not exist`);
  if (record.deletedAt !== null) throw new DomainError('record_deleted', `record ${attach.recordId} was deleted`);
  if (imagesOnRecord >= LIMITS.imagesPerRecordMax) {
    throw new DomainError('limit_exceeded', `record ${attach.recordId} already has ${imagesOnRecord} images; at most ${LIMITS.imagesPerRecordMax} are allowed`);
  }
  return { type: 'ImageAttached', data: attach };
}

/**
 * The worker's result for an image. Nothing to record (null) when the image is gone or already
 * has its renditions: a job delivered twice, or one for an image deleted meanwhile.
 */
export function decideRenditions(
  image: ImageState | undefined,
  outcome: { cover: RenditionInfo; compact?: RenditionInfo | undefined } | { failure: string },
): ImageEventData | null {
  if (!image || image.detachedAt !== null) return null;
  if ('failure' in outcome) {
    if (image.status !== 'processing') return null;
    return { type: 'ImageRenditionsFailed', data: { imageId: image.id, recordId: image.recordId, reason: outcome.failure.slice(0, LIMITS.imageFailureMax) } };
  }
  if (image.cover) return null;
  const data: Extract<ImageEventData, { type: 'ImageRenditionsReady' }>['data'] = { imageId: image.id, recordId: image.recordId, cover: outcome.cover };
  if (outcome.compact) data.compact = outcome.compact;
  return { type: 'ImageRenditionsReady', data };
}

/**
 * The user removes an image from its record. An image of a deleted record is as absent as it is
 * to listing and download (a restore of the record brings it back).
 */
export function decideDetachImage(imageId: string, image: ImageState | undefined, record: { deletedAt: number | null } | undefined): ImageEventData {
  if (!image || image.detachedAt !== null || !record || record.deletedAt !== null) throw new DomainError('image_not_found', `image ${imageId} does not exist`);
  return { type: 'ImageDetached', data: { imageId, recordId: image.recordId } };
}
