import sharp from 'sharp';

/** A small JPEG whose pixels are `left` on the left half and `right` on the right half, as stored. */
export async function twoToneJpeg(width: number, height: number, left: string, right: string, exif?: { orientation?: number; copyright?: string }): Promise<Buffer> {
  const half = Math.floor(width / 2);
  const leftHalf = await sharp({ create: { width: half, height, channels: 3, background: left } }).png().toBuffer();
  let image = sharp({ create: { width, height, channels: 3, background: right } }).composite([{ input: leftHalf, left: 0, top: 0 }]);
  if (exif?.copyright) image = image.withExif({ IFD0: { Copyright: exif.copyright, Make: 'KeeperCam' } });
  if (exif?.orientation) image = image.withMetadata({ orientation: exif.orientation });
  return image.jpeg({ quality: 90 }).toBuffer();
}

/** A real small PNG whose header is rewritten to claim width x height: a decompression bomb's shape, at a few hundred bytes. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer());
  // Signature (8), then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4), ..., CRC over type and data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A real small JPEG whose frame header (SOF) is rewritten to claim width x height. */
export async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).jpeg().toBuffer());
  for (let i = 2; i + 9 < jpeg.length; i++) {
    // SOF0..SOF2: FF Cn, length (2), precision (1), height (2), width (2).
    if (jpeg[i] === 0xff && jpeg[i + 1]! >= 0xc0 && jpeg[i + 1]! <= 0xc2) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      return jpeg;
    }
  }
  throw new Error('the generated JPEG has no SOF marker');
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Mean colour of a region of a decoded image. */
export async function meanColour(image: Buffer, region: { left: number; top: number; width: number; height: number }): Promise<[number, number, number]> {
  const { data, info } = await sharp(image).extract(region).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c++) sums[c]! += data[i + c]!;
  const pixels = data.length / info.channels;
  return [sums[0]! / pixels, sums[1]! / pixels, sums[2]! / pixels];
}
