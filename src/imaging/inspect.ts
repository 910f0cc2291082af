import { open } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { ACCEPTED_IMAGE_NAMES, ACCEPTED_IMAGE_TYPES } from '../domain/image-types.js';
import { sniffImageType } from './sniff.js';

/** Above this many pixels an image is refused before anything decodes it (a 100-megapixel photo is already rare). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** What sharp (libvips, as shipped) can decode; the list lives in the domain, where every face reads it. */
export const SUPPORTED_IMAGE_TYPES: ReadonlySet<string> = ACCEPTED_IMAGE_TYPES;

export type ImageRejectionCode = 'not_an_image' | 'too_many_pixels' | 'unsupported_type' | 'corrupt';

/** Bytes that will not make an image. Retrying cannot help; the message is a sentence for the user. */
export class ImageRejected extends Error {
  constructor(
    readonly code: ImageRejectionCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ImageRejected';
  }
}

export interface ImageLimits {
  maxPixels?: number;
}

export interface ImageInfo {
  type: string;
  /** As displayed, after the EXIF orientation (a portrait photo stored sideways is taller than wide). */
  width: number;
  height: number;
}

/**
 * Identifies an image from its magic bytes and its header alone, nothing decoded, so a
 * decompression bomb (a small file declaring a huge canvas) costs nothing to refuse.
 */
export async function inspectImage(bytes: Uint8Array, limits: ImageLimits = {}): Promise<ImageInfo> {
  return inspect(bytes.subarray(0, SNIFF_HEAD_BYTES), bytes, limits);
}

/** inspectImage for a file on disk (an upload being received): only its head and header are read. */
export async function inspectImageFile(path: string, limits: ImageLimits = {}): Promise<ImageInfo> {
  const file = await open(path, 'r');
  let head: Uint8Array;
  try {
    const buffer = Buffer.alloc(SNIFF_HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, SNIFF_HEAD_BYTES, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  return inspect(head, path, limits);
}

const SNIFF_HEAD_BYTES = 4096;

async function inspect(head: Uint8Array, input: Uint8Array | string, limits: ImageLimits): Promise<ImageInfo> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const type = sniffImageType(head);
  if (type === undefined) throw new ImageRejected('not_an_image', 'the file is not an image: its first bytes match no image format');
  if (!SUPPORTED_IMAGE_TYPES.has(type)) {
    throw new ImageRejected('unsupported_type', `${type} images are not supported; use ${ACCEPTED_IMAGE_NAMES}`);
  }
  let metadata: Metadata;
  try {
    // No pixel limit here: the header is all that is read, and the check below names the sizes.
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRejected('corrupt', `the ${type} file cannot be read: ${describeDecodeFailure(error)}`, { cause: error });
  }
  const { width, height } = metadata.autoOrient ?? metadata;
  if (!width || !height) throw new ImageRejected('corrupt', `the ${type} file declares no dimensions`);
  checkPixels(width, height, maxPixels);
  return { type, width, height };
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new ImageRejected(
      'too_many_pixels',
      `the image is ${width} x ${height} pixels (${megapixels(width * height)} megapixels); the limit is ${megapixels(maxPixels)} megapixels`,
    );
  }
}

/** sharp's messages read "VipsJpeg: premature end of JPEG image"; keep the first line, without sharp's own prefix. */
export function decoderMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Input buffer (has corrupt header|contains unsupported image format)?:?\s*/i, '').split('\n')[0]!.trim() || message;
}

// libvips and its loaders word the same trouble many ways; the owner gets one plain sentence.
const DECODER_PROBLEMS: Array<[RegExp, string]> = [
  [/premature end|unexpected end|end of file|truncated|bad seek|short read|not enough data/i, 'the file is cut short, its picture data ends early'],
  [/unsupported image format/i, 'the file is in a form the image library cannot read'],
  [/huffman|corrupt|bogus|invalid|crc|read error|unable to parse|bad |damaged/i, 'the picture data is damaged'],
];

/** What is wrong, in plain words, with libvips' own words after it in brackets, cut short. */
export function describeDecodeFailure(error: unknown): string {
  const detail = decoderMessage(error);
  const whole = error instanceof Error ? error.message : String(error);
  const plain = DECODER_PROBLEMS.find(([pattern]) => pattern.test(whole))?.[1] ?? 'the picture data cannot be decoded';
  return `${plain} (${detail.length > 80 ? `${detail.slice(0, 79)}…` : detail})`;
}

function megapixels(pixels: number): string {
  return (pixels / 1_000_000).toFixed(pixels < 10_000_000 ? 1 : 0);
}
