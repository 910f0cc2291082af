import sharp from 'sharp';
import { seededRandom } from '../lib/seeded-random.js';

export interface SyntheticPhotoOptions {
  /** Default 4000 x 3000: 12 megapixels, a phone camera's photo. */
  width?: number;
  height?: number;
  seed?: number;
  /** JPEG quality of the result (default 92, what cameras write). */
  quality?: number;
}

/**
 * A photo-like JPEG for tests and benchmarks, the same for the same seed: smooth light across the
 * frame, blotches of colour at several scales and sensor-like grain, so it compresses about as
 * badly as a real photo (a 12-megapixel one comes out at several megabytes).
 */
export async function syntheticPhoto(options: SyntheticPhotoOptions = {}): Promise<Buffer> {
  const width = options.width ?? 4000;
  const height = options.height ?? 3000;
  const random = seededRandom(options.seed ?? 1);
  const blotches = await smoothNoise(width, height, 48, random);
  const detail = await smoothNoise(width, height, 6, random);
  const pixels = Buffer.allocUnsafe(width * height * 3);
  let grain = 0;
  let grainBits = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        if (grainBits === 0) {
          grain = (random() * 0x1_0000_0000) >>> 0;
          grainBits = 4;
        }
        const noise = (grain & 0xff) / 255 - 0.5;
        grain >>>= 8;
        grainBits--;
        const light = c === 0 ? x / width : c === 1 ? y / height : (x + y) / (width + height);
        const value = 40 + light * 120 + (blotches[i + c]! - 128) * 0.6 + (detail[i + c]! - 128) * 0.35 + noise * 22;
        pixels[i + c] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: options.quality ?? 92 }).toBuffer();
}

/** Random colours on a grid `cell` pixels apart, smoothly interpolated to the full size. */
async function smoothNoise(width: number, height: number, cell: number, random: () => number): Promise<Buffer> {
  const gridWidth = Math.max(2, Math.ceil(width / cell));
  const gridHeight = Math.max(2, Math.ceil(height / cell));
  const grid = Buffer.allocUnsafe(gridWidth * gridHeight * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = Math.floor(random() * 256);
  return sharp(grid, { raw: { width: gridWidth, height: gridHeight, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
}
