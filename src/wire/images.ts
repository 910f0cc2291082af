import { renditionInfoSchema, type ImageRendition, type ImageState, type RenditionInfo } from '../domain/images.js';
import { Rendition, type DownloadHeader, type Image as WireImage, type RenditionInfo as WireRenditionInfo } from '../gen/keeper/v1/images.js';

const TO_WIRE: Record<ImageRendition, Rendition> = {
  original: Rendition.RENDITION_ORIGINAL,
  cover: Rendition.RENDITION_COVER,
  compact: Rendition.RENDITION_COMPACT,
};

const FROM_WIRE: ReadonlyMap<number, ImageRendition> = new Map(Object.entries(TO_WIRE).map(([name, wire]) => [wire, name as ImageRendition]));

export function renditionToWire(rendition: ImageRendition): Rendition {
  return TO_WIRE[rendition];
}

/** Undefined for RENDITION_UNSPECIFIED or a number this build does not know: the caller says what is wrong. */
export function renditionFromWire(rendition: number): ImageRendition | undefined {
  return FROM_WIRE.get(rendition);
}

/** The wire names a blob by what it is (its sha256); the domain by what it is for (its address). */
export function renditionInfoToWire(info: RenditionInfo): WireRenditionInfo {
  return { sha256: info.address, type: info.type, width: info.width, height: info.height, size: info.size };
}

export function renditionInfoFromWire(info: WireRenditionInfo): RenditionInfo {
  return renditionInfoSchema.parse({ address: info.sha256, type: info.type, width: info.width, height: info.height, size: info.size });
}

export function imageToWire(image: ImageState): WireImage {
  return {
    id: image.id,
    recordId: image.recordId,
    fileName: image.fileName,
    original: renditionInfoToWire(image.original),
    encrypted: image.encrypted,
    status: image.status,
    cover: image.cover ? renditionInfoToWire(image.cover) : undefined,
    compact: image.compact ? renditionInfoToWire(image.compact) : undefined,
    failure: image.failure ?? '',
    createdAt: image.createdAt,
    version: image.version,
  };
}

const IMAGE_STATUSES = new Set<ImageState['status']>(['processing', 'ready', 'failed']);

/** An image as the server lists it, checked like a pulled event; a status this build does not know reads as processing. */
export function imageFromWire(image: WireImage): ImageState {
  if (!image.original) throw new Error(`image ${image.id} came without its original`);
  const status = IMAGE_STATUSES.has(image.status as ImageState['status']) ? (image.status as ImageState['status']) : 'processing';
  const state: ImageState = {
    id: image.id,
    recordId: image.recordId,
    fileName: image.fileName,
    original: renditionInfoFromWire(image.original),
    encrypted: image.encrypted,
    status,
    createdAt: image.createdAt,
    version: image.version,
    detachedAt: null,
  };
  if (image.cover) state.cover = renditionInfoFromWire(image.cover);
  if (image.compact) state.compact = renditionInfoFromWire(image.compact);
  if (image.failure) state.failure = image.failure;
  return state;
}

/** What a download says before its bytes: the client checks the bytes against size and sha256. */
export function downloadHeaderToWire(download: { image: ImageState; rendition: ImageRendition; info: RenditionInfo }): DownloadHeader {
  return {
    imageId: download.image.id,
    rendition: renditionToWire(download.rendition),
    fileName: download.image.fileName,
    type: download.info.type,
    size: download.info.size,
    sha256: download.info.address,
    encrypted: download.image.encrypted,
  };
}
