import { formatBytesExactly } from '../../domain/byte-sizes.js';
import { ACCEPTED_IMAGE_NAMES } from '../../domain/image-types.js';
import { DomainError } from '../../domain/errors.js';
import { decideAttachImage, decideDetachImage, decideRenditions, type ImageRendition, type ImageState, type RenditionInfo } from '../../domain/images.js';
import type { VaultState } from '../../domain/vault-state.js';
import { derivedId } from '../../lib/derived-id.js';
import { structureCheck, type StructureCheck } from '../../imaging/structure.js';
import { BlobNotFound, type BlobReader, type BlobStore, type BlobWriter } from '../blobs/blob-store.js';
import type { VaultService } from '../vault/vault-service.js';
import { ImageRequestRejected } from './upload-errors.js';

/** Upload chunks are at most this big, so a stream is checked as it arrives, never buffered whole. */
export const IMAGE_CHUNK_BYTES = 64 * 1024;
/** Enough bytes to tell every supported format by its signature. */
const SNIFF_BYTES = 32;
const SEALED_TYPE = 'application/octet-stream';

export interface ImageLimits {
  /** Largest image accepted, in bytes. */
  maxBytes: number;
}

/** How the service tells what an upload really is; sharp-backed in production (src/imaging). */
export interface ImageInspector {
  /** The media type from the first bytes, or undefined when they are no image we take. */
  sniff(head: Uint8Array): string | undefined;
  /** Type and dimensions from the header of the file; throws a sentence for a bad or oversized image. */
  inspect(path: string): Promise<{ type: string; width: number; height: number }>;
}

export interface UploadHeader {
  imageId: string;
  recordId: string;
  fileName: string;
  declaredType: string;
  size: number;
  sha256: string;
  encrypted: boolean;
  /** original attaches a new image; cover adds the client-made cover of a sealed image. */
  rendition: 'original' | 'cover';
  /** Dimensions the client states for a sealed cover (the server cannot look). */
  coverWidth?: number;
  coverHeight?: number;
}

export interface UploadOutcome {
  image: ImageState;
  version: number;
  duplicate: boolean;
}

export interface DownloadOpened {
  image: ImageState;
  rendition: ImageRendition;
  info: RenditionInfo;
  /** The bytes from the offset asked for; the caller closes it. */
  reader: BlobReader;
}

const CLIENT_ID = 'keeper-images';

/**
 * The image use cases, transport-free; every call is scoped to the authenticated user, whose vault
 * state (the same one pushes are decided on) says which records and images exist. Another user's
 * record or image is simply not found.
 */
export class ImageService {
  constructor(
    private readonly vault: VaultService,
    private readonly blobs: BlobStore,
    private readonly inspector: ImageInspector,
    private readonly limits: ImageLimits,
  ) {}

  async upload(userId: string, header: UploadHeader, chunks: AsyncIterable<Uint8Array>): Promise<UploadOutcome> {
    if (header.size > this.limits.maxBytes) {
      throw new ImageRequestRejected('too_large', `the image is ${formatBytesExactly(header.size)}; at most ${formatBytesExactly(this.limits.maxBytes)} are accepted`);
    }
    // Refuse before a byte is stored when the record or image cannot take this upload.
    const early = await this.vault.withState(userId, (state) => this.checkTarget(state, header));
    if (early) return early;

    const writer = await this.blobs.begin();
    let committed = false;
    try {
      const type = await this.receive(writer, header, chunks);
      let width = header.coverWidth ?? 0;
      let height = header.coverHeight ?? 0;
      let storedType = type;
      if (!header.encrypted) {
        await writer.flush();
        // The disk syncs the file while it is inspected (an fsync took longer than the inspection
        // in bench transfer); both settle before anything else touches the writer, an abort included.
        const [inspected, synced] = await Promise.allSettled([this.inspectOrReject(writer.path), writer.sync()]);
        if (inspected.status === 'rejected') throw inspected.reason;
        if (synced.status === 'rejected') throw synced.reason;
        ({ width, height } = inspected.value);
        storedType = inspected.value.type;
      }
      const address = await writer.commit();
      committed = true;
      const info: RenditionInfo = { address, type: storedType, width, height, size: writer.size };
      return await this.attach(userId, header, info);
    } catch (error) {
      if (!committed) await writer.abort();
      // A committed blob that no event references is collected later; nothing refers to it now.
      throw error;
    }
  }

  /** Opens one rendition's bytes from `offset` on (a download resumed after a cut), with what the client needs to check them. */
  async download(userId: string, imageId: string, rendition: ImageRendition, offset = 0): Promise<DownloadOpened> {
    const image = await this.vault.withState(userId, (state) => liveImage(state, imageId));
    const info = renditionOf(image, rendition);
    let reader: BlobReader;
    try {
      reader = await this.blobs.openReader(info.address, offset);
    } catch (error) {
      // Collected only when nothing refers to it, so this means the blob directory lost it.
      if (error instanceof BlobNotFound) throw new ImageRequestRejected('not_found', `the ${rendition} of image ${imageId} is no longer stored`);
      throw error;
    }
    if (offset > info.size) {
      await reader.close();
      throw new ImageRequestRejected('out_of_range', `offset ${offset} is past the end of the ${rendition} (${info.size} bytes)`);
    }
    return { image, rendition, info, reader };
  }

  async list(userId: string, recordId: string): Promise<ImageState[]> {
    return this.vault.withState(userId, (state) => {
      const record = state.get(recordId);
      if (!record || record.deletedAt !== null) throw new ImageRequestRejected('not_found', `record ${recordId} does not exist`);
      return state.imagesOf(recordId);
    });
  }

  async remove(userId: string, imageId: string): Promise<number> {
    const outcome = await this.vault.record(userId, derivedId(`image-detached:${userId}:${imageId}`), CLIENT_ID, (state) => {
      const image = state.images.get(imageId);
      return decideDetachImage(imageId, image, image && state.get(image.recordId));
    });
    return outcome.version;
  }

  private checkTarget(state: VaultState, header: UploadHeader): UploadOutcome | undefined {
    const record = state.get(header.recordId);
    if (!record || record.deletedAt !== null) throw new ImageRequestRejected('not_found', `record ${header.recordId} does not exist`);
    const existing = state.images.get(header.imageId);
    if (header.rendition === 'cover') {
      if (!existing || existing.detachedAt !== null || existing.recordId !== header.recordId) {
        throw new ImageRequestRejected('not_found', `image ${header.imageId} does not exist`);
      }
      if (!existing.encrypted) throw new ImageRequestRejected('invalid', 'only a sealed image takes a cover from its client; the server makes the others');
      if (!header.encrypted) throw new ImageRequestRejected('invalid', 'the cover of a sealed image must be sealed too');
      if (existing.cover) return { image: existing, version: state.version, duplicate: existing.cover.address === header.sha256.toLowerCase() };
      return undefined;
    }
    if (existing) {
      if (existing.original.address === header.sha256.toLowerCase() && existing.recordId === header.recordId) {
        return { image: existing, version: state.version, duplicate: true };
      }
      throw new ImageRequestRejected('invalid', `image id ${header.imageId} is already used for another image; choose a new UUID`);
    }
    return undefined;
  }

  /** Streams the chunks into the writer, checking each against the header; answers the type. */
  private async receive(writer: BlobWriter, header: UploadHeader, chunks: AsyncIterable<Uint8Array>): Promise<string> {
    let head = Buffer.alloc(0);
    let sniffed: string | undefined = header.encrypted ? SEALED_TYPE : undefined;
    let structure: StructureCheck | undefined;
    const sniffHead = () => {
      const type = this.sniffOrReject(head);
      // A file cut short is found as its bytes pass, before anything tries to decode it.
      structure = structureCheck(type);
      structure?.push(head);
      return type;
    };
    for await (const chunk of chunks) {
      if (chunk.byteLength > IMAGE_CHUNK_BYTES) {
        throw new ImageRequestRejected('invalid', `a chunk of ${chunk.byteLength} bytes is larger than the ${IMAGE_CHUNK_BYTES} allowed`);
      }
      if (writer.size + chunk.byteLength > header.size) {
        throw new ImageRequestRejected('invalid', `more bytes arrived than the ${header.size} the header declared`);
      }
      await writer.write(chunk);
      if (!sniffed && head.byteLength < SNIFF_BYTES) {
        head = Buffer.concat([head, chunk]);
        if (head.byteLength >= SNIFF_BYTES) sniffed = sniffHead();
      } else {
        structure?.push(chunk);
      }
    }
    if (writer.size !== header.size) {
      throw new ImageRequestRejected('invalid', `the upload ended after ${writer.size} of the ${header.size} bytes the header declared`);
    }
    sniffed ??= sniffHead();
    if (writer.digest() !== header.sha256.toLowerCase()) {
      throw new ImageRequestRejected('invalid', 'the bytes received do not match the sha256 in the header');
    }
    const problem = structure?.finish();
    if (problem) throw new ImageRequestRejected('invalid', problem);
    return sniffed;
  }

  private sniffOrReject(head: Uint8Array): string {
    const type = this.inspector.sniff(head);
    if (!type) throw new ImageRequestRejected('invalid', `the file is not an image Keeper takes (${ACCEPTED_IMAGE_NAMES})`);
    return type;
  }

  private async inspectOrReject(path: string): Promise<{ type: string; width: number; height: number }> {
    try {
      return await this.inspector.inspect(path);
    } catch (error) {
      throw new ImageRequestRejected('invalid', error instanceof Error ? error.message : 'the image cannot be read');
    }
  }

  private async attach(userId: string, header: UploadHeader, info: RenditionInfo): Promise<UploadOutcome> {
    const eventName = header.rendition === 'cover' ? 'image-renditions' : 'image-attached';
    try {
      const outcome = await this.vault.record(userId, derivedId(`${eventName}:${userId}:${header.imageId}`), CLIENT_ID, (state) => {
        if (header.rendition === 'cover') return decideRenditions(state.images.get(header.imageId), { cover: info }) ?? 'duplicate';
        const record = state.get(header.recordId);
        return decideAttachImage(
          { imageId: header.imageId, recordId: header.recordId, fileName: header.fileName, original: info, encrypted: header.encrypted },
          record,
          state.images.get(header.imageId),
          state.imagesOf(header.recordId).length,
        );
      });
      const image = await this.vault.withState(userId, (state) => state.images.get(header.imageId));
      if (!image) throw new Error(`image ${header.imageId} is missing right after it was attached`);
      return { image, version: outcome.version, duplicate: outcome.duplicate };
    } catch (error) {
      if (error instanceof DomainError && (error.code === 'record_not_found' || error.code === 'record_deleted')) {
        throw new ImageRequestRejected('not_found', error.message);
      }
      throw error;
    }
  }
}

function liveImage(state: VaultState, imageId: string): ImageState {
  const image = state.images.get(imageId);
  const record = image ? state.get(image.recordId) : undefined;
  if (!image || image.detachedAt !== null || !record || record.deletedAt !== null) {
    throw new ImageRequestRejected('not_found', `image ${imageId} does not exist`);
  }
  return image;
}

function renditionOf(image: ImageState, rendition: ImageRendition): RenditionInfo {
  if (rendition === 'original') return image.original;
  const info = rendition === 'cover' ? image.cover : image.compact;
  if (info) return info;
  if (image.encrypted && rendition === 'compact') {
    throw new ImageRequestRejected('not_found', 'a sealed image has no compact copy (the server cannot see it): download the original');
  }
  if (image.status === 'failed') throw new ImageRequestRejected('not_found', `the ${rendition} could not be made: ${image.failure ?? 'unknown reason'}`);
  throw new ImageRequestRejected('not_ready', `the ${rendition} is not ready yet; try again shortly`);
}
