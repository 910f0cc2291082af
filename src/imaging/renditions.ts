import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { WEB_SAFE_IMAGE_TYPES } from '../domain/image-types.js';
import { DEFAULT_MAX_PIXELS, describeDecodeFailure, ImageRejected, inspectImage, type ImageInfo, type ImageLimits } from './inspect.js';
import { BudgetUnreachable, fitJpeg, type PixelSource } from './jpeg-budget.js';

export { sniffImageType } from './sniff.js';
export { DEFAULT_MAX_PIXELS, ImageRejected, inspectImage, inspectImageFile, SUPPORTED_IMAGE_TYPES, type ImageInfo, type ImageLimits, type ImageRejectionCode } from './inspect.js';

export interface Rendition {
  bytes: Buffer;
  type: string;
  width: number;
  height: number;
}

export const COVER_SIZE = 120;
export const DEFAULT_COMPACT_MAX_BYTES = 1_000_000;

const COVER_QUALITY = 80;
/** Decode once and keep the pixels for the encoding attempts up to this size (3 bytes a pixel). */
const KEEP_DECODED_MAX_PIXELS = 40_000_000;
const WHITE = { r: 255, g: 255, b: 255 };

/**
 * The 120x120 cover: cropped to fill the square around what the attention strategy finds most
 * salient, turned upright by its EXIF orientation, transparency on white, no metadata kept.
 * On its own it decodes at a fraction of the size (JPEG shrink-on-load), which is what a client
 * making only a cover wants; the worker uses makeRenditions.
 */
export async function makeCover(bytes: Uint8Array, limits: ImageLimits = {}): Promise<Rendition> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  // The header checks first, so a bomb is refused before anything decodes it.
  await inspectImage(bytes, { maxPixels });
  return decoding(() => cover(sharp(bytes, inputOptions(maxPixels)).autoOrient().flatten({ background: WHITE })));
}

export interface CompactOptions extends ImageLimits {
  maxBytes?: number;
}

/**
 * A copy of at most maxBytes: the original itself when it already fits and may be shown as it is
 * (see originalAsCompact), otherwise a JPEG at the full dimensions and the highest quality step
 * that fits, or fewer pixels (see fitJpeg), upright by its EXIF orientation, transparency on
 * white, no metadata. makeRenditions decodes the whole original for the cover either way.
 */
export async function makeCompact(bytes: Uint8Array, options: CompactOptions = {}): Promise<Rendition> {
  const maxBytes = compactBudget(options.maxBytes);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await inspectImage(bytes, { maxPixels });
  return decoding(async () => (await originalAsCompact(bytes, info, maxBytes)) ?? compact(await uprightSource(bytes, maxPixels, info.width, info.height), maxBytes));
}

/**
 * The cover and the compact copy from a single decoding of the original (the imaging worker's
 * job). Throws ImageRejected for bytes that will not make an image.
 */
export async function makeRenditions(bytes: Uint8Array, options: CompactOptions = {}): Promise<{ cover: Rendition; compact: Rendition }> {
  const maxBytes = compactBudget(options.maxBytes);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await inspectImage(bytes, { maxPixels });
  return decoding(async () => {
    const asItIs = await originalAsCompact(bytes, info, maxBytes);
    if (asItIs) return { cover: await cover(sharp(bytes, inputOptions(maxPixels)).autoOrient().flatten({ background: WHITE })), compact: asItIs };
    const source = await uprightSource(bytes, maxPixels, info.width, info.height);
    // Huge canvases are not held decoded; their cover decodes at a fraction of the size instead.
    const coverSource = source.raw ? source.pipeline() : sharp(bytes, inputOptions(maxPixels)).autoOrient().flatten({ background: WHITE });
    const [madeCover, madeCompact] = await Promise.all([cover(coverSource), compact(source, maxBytes)]);
    return { cover: madeCover, compact: madeCompact };
  });
}

/**
 * An original that already fits the budget, in a format every browser shows, is its own compact
 * copy (the same bytes, so the same blob address): re-encoding it could only make it bigger (a
 * 67 B PNG became a 613 B JPEG, an 83 KB WebP 161 KB) or worse. Not when it carries metadata
 * (the compact copy promises none: no location, no camera) or an EXIF orientation (it would show
 * sideways wherever the tag is ignored); those are re-encoded upright and bare as before. Only
 * small files get here, so the header read costs nothing next to a decode.
 */
async function originalAsCompact(bytes: Uint8Array, info: ImageInfo, maxBytes: number): Promise<Rendition | undefined> {
  if (bytes.byteLength > maxBytes || !WEB_SAFE_IMAGE_TYPES.has(info.type)) return undefined;
  const metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  if (metadata.exif || metadata.xmp || metadata.iptc || (metadata.comments?.length ?? 0) > 0 || (metadata.orientation ?? 1) !== 1) return undefined;
  return { bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), type: info.type, width: info.width, height: info.height };
}

async function cover(upright: Sharp): Promise<Rendition> {
  const { data, info } = await upright
    .resize(COVER_SIZE, COVER_SIZE, { fit: 'cover', position: sharp.strategy.attention })
    .jpeg({ quality: COVER_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return { bytes: data, type: 'image/jpeg', width: info.width, height: info.height };
}

async function compact(source: PixelSource, maxBytes: number): Promise<Rendition> {
  return { ...(await fitJpeg(source, maxBytes)), type: 'image/jpeg' };
}

function compactBudget(maxBytes = DEFAULT_COMPACT_MAX_BYTES): number {
  if (!Number.isInteger(maxBytes) || maxBytes < 10_000) throw new RangeError(`maxBytes must be a whole number of at least 10000, not ${maxBytes}`);
  return maxBytes;
}

/** Dimensions as inspectImage reports them, upright. */
async function uprightSource(bytes: Uint8Array, maxPixels: number, width: number, height: number): Promise<PixelSource> {
  const upright = () => sharp(bytes, inputOptions(maxPixels)).autoOrient().flatten({ background: WHITE });
  if (width * height > KEEP_DECODED_MAX_PIXELS) {
    // Huge canvases are decoded again for each attempt rather than held in memory whole.
    return { width, height, pipeline: upright };
  }
  const { data, info } = await upright().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  return {
    width: info.width,
    height: info.height,
    pipeline: () => sharp(data, { raw, limitInputPixels: maxPixels }),
    raw: { data, channels: info.channels },
  };
}

function inputOptions(maxPixels: number): SharpOptions {
  // 'truncated' refuses a cut-off file but lets through the harmless warnings real cameras produce.
  return { limitInputPixels: maxPixels, failOn: 'truncated' };
}

/**
 * Decoding failures are the image's fault and permanent; running out of memory is the machine's
 * and worth retrying, so it passes through as it is.
 */
async function decoding<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ImageRejected || error instanceof BudgetUnreachable) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/out of memory|cannot allocate|memory allocation/i.test(message)) throw error;
    if (/exceeds pixel limit/i.test(message)) throw new ImageRejected('too_many_pixels', 'the image has more pixels than allowed', { cause: error });
    throw new ImageRejected('corrupt', `the image could not be decoded: ${describeDecodeFailure(error)}`, { cause: error });
  }
}
