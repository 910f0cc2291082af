import sharp, { type Sharp } from 'sharp';

export interface EncodedJpeg {
  bytes: Buffer;
  width: number;
  height: number;
}

/** Upright pixels to encode, decoded once when they fit in memory. */
export interface PixelSource {
  width: number;
  height: number;
  /** A fresh pipeline over the pixels. */
  pipeline(): Sharp;
  /** The decoded pixels, 8 bits a channel, when kept; sampling needs them. */
  raw?: { data: Buffer; channels: number };
}

/** Tried in turn while the image keeps its dimensions; the last is also the quality of a resized copy. */
export const QUALITY_STEPS = [85, 75, 65, 55] as const;
/** Below this many pixels every estimate is an actual encoding of the whole image. */
const WHOLE_IMAGE_MAX_PIXELS = 2_000_000;
/** The sample is GRID x GRID tiles spread over the image, about 1/SAMPLE_SHARE of it. */
const GRID = 4;
const SAMPLE_SHARE = 12;
const MAX_TILE = 256;
/** JPEG codes 16x16 blocks (4:2:0); tiles on that grid cost what the same pixels cost in the whole image. */
const BLOCK = 16;
/** Downscaled pixels carry more detail each; aim under the budget so one resize usually fits. */
const RESIZE_MARGIN = 0.92;
const MAX_RESIZE_ROUNDS = 8;

/**
 * The JPEG of `source` at the highest quality step that fits maxBytes, else at the lowest step
 * with fewer pixels. Each step is first estimated on a sample (a mosaic of tiles taken from a
 * large image; a small image is its own sample), so a hopeless step costs a few milliseconds
 * instead of a full encoding; only a step estimated to fit is encoded whole and checked.
 *
 * Huffman tables are the standard ones: optimised tables save about 5% of the bytes at three
 * times the encoding time, and the budget is met either way.
 */
export async function fitJpeg(source: PixelSource, maxBytes: number): Promise<EncodedJpeg> {
  const sample = sampleOf(source);
  const estimate = async (quality: number) => (await encode(sample.pipeline(), quality)).bytes.length * sample.factor;
  const floor = QUALITY_STEPS[QUALITY_STEPS.length - 1]!;
  // Most large photos miss even at the lowest step: one sample encoding settles that.
  let size = await estimate(floor);
  if (size <= maxBytes) {
    for (const quality of QUALITY_STEPS) {
      if (quality !== floor && (await estimate(quality)) > maxBytes) continue;
      const attempt = await encode(source.pipeline(), quality);
      if (attempt.bytes.length <= maxBytes) return attempt;
      size = attempt.bytes.length;
    }
  }
  // Then fewer pixels at the lowest step. JPEG bytes grow about linearly with the pixel count:
  // scale both sides by the square root of how far over it is.
  let scale = 1;
  for (let round = 0; round < MAX_RESIZE_ROUNDS; round++) {
    scale *= Math.sqrt(maxBytes / size) * RESIZE_MARGIN;
    const width = Math.max(1, Math.round(source.width * scale));
    const height = Math.max(1, Math.round(source.height * scale));
    // The linear kernel is a quarter faster than lanczos3; the difference does not survive quality 55.
    const attempt = await encode(source.pipeline().resize(width, height, { fit: 'fill', kernel: 'linear' }), floor);
    if (attempt.bytes.length <= maxBytes) return attempt;
    size = attempt.bytes.length;
  }
  throw new BudgetUnreachable(`could not bring a ${source.width} x ${source.height} image under ${maxBytes} bytes in ${MAX_RESIZE_ROUNDS} resizes`);
}

/** Only with a budget too small for any JPEG; callers check maxBytes well above that. */
export class BudgetUnreachable extends Error {
  override name = 'BudgetUnreachable';
}

async function encode(pipeline: Sharp, quality: number): Promise<EncodedJpeg> {
  const { data, info } = await pipeline.jpeg({ quality, optimiseCoding: false }).toBuffer({ resolveWithObject: true });
  return { bytes: data, width: info.width, height: info.height };
}

interface Sample {
  pipeline(): Sharp;
  /** Image pixels per sample pixel (1: the sample is the image). */
  factor: number;
}

function sampleOf(source: PixelSource): Sample {
  const whole: Sample = { pipeline: source.pipeline, factor: 1 };
  const pixels = source.width * source.height;
  if (!source.raw || pixels <= WHOLE_IMAGE_MAX_PIXELS) return whole;
  const fitting = Math.min(Math.sqrt(pixels / SAMPLE_SHARE) / GRID, MAX_TILE, Math.min(source.width, source.height) / GRID);
  const tile = Math.floor(fitting / BLOCK) * BLOCK;
  if (tile < BLOCK) return whole;

  const { data, channels } = source.raw;
  const side = tile * GRID;
  const mosaic = Buffer.allocUnsafe(side * side * channels);
  const rowBytes = tile * channels;
  for (let row = 0; row < GRID; row++) {
    const top = tileStart(row, source.height, tile);
    for (let column = 0; column < GRID; column++) {
      const left = tileStart(column, source.width, tile);
      for (let y = 0; y < tile; y++) {
        const from = ((top + y) * source.width + left) * channels;
        const to = ((row * tile + y) * side + column * tile) * channels;
        data.copy(mosaic, to, from, from + rowBytes);
      }
    }
  }
  return {
    pipeline: () => sharp(mosaic, { raw: { width: side, height: side, channels: channels as 1 | 2 | 3 | 4 } }),
    factor: pixels / (side * side),
  };
}

/** Where tile `index` of GRID starts along a side: centred in its stripe, on the block grid. */
function tileStart(index: number, length: number, tile: number): number {
  const centred = ((index + 0.5) * length) / GRID - tile / 2;
  return Math.min(length - tile, Math.max(0, Math.floor(centred / BLOCK) * BLOCK));
}
