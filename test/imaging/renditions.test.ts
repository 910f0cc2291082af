import { expect } from 'chai';
import sharp from 'sharp';
import {
  COVER_SIZE,
  ImageRejected,
  inspectImage,
  makeCompact,
  makeCover,
  makeRenditions,
  sniffImageType,
  type ImageRejectionCode,
} from '../../src/imaging/renditions.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { jpegClaiming, meanColour, pngClaiming, twoToneJpeg } from './support/images.js';

async function rejection(promise: Promise<unknown>): Promise<ImageRejected> {
  const error = await promise.then(
    () => expect.fail('expected the image to be rejected'),
    (rejected: unknown) => rejected,
  );
  expect(error).to.be.instanceOf(ImageRejected);
  return error as ImageRejected;
}

async function expectRejected(promise: Promise<unknown>, code: ImageRejectionCode, message: RegExp): Promise<void> {
  const error = await rejection(promise);
  expect(error.code).to.equal(code);
  expect(error.message).to.match(message);
}

const bytes = (...values: Array<number | string>) =>
  Uint8Array.from(values.flatMap((value) => (typeof value === 'string' ? [...value].map((char) => char.charCodeAt(0)) : [value])));

/** An ISO-BMFF ftyp box: size, 'ftyp', major brand, minor version, compatible brands. */
function ftyp(major: string, ...compatible: string[]): Uint8Array {
  const size = 16 + 4 * compatible.length;
  return bytes(0, 0, 0, size, 'ftyp', major, 0, 0, 0, 0, ...compatible, 0, 0, 0, 0);
}

describe('sniffImageType', function () {
  const table: Array<[string, Uint8Array, string | undefined]> = [
    ['JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'JFIF'), 'image/jpeg'],
    ['PNG', bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'IHDR'), 'image/png'],
    ['GIF87a', bytes('GIF87a', 1, 0, 1, 0), 'image/gif'],
    ['GIF89a', bytes('GIF89a', 1, 0, 1, 0), 'image/gif'],
    ['WebP', bytes('RIFF', 0x24, 0, 0, 0, 'WEBPVP8 '), 'image/webp'],
    ['little-endian TIFF', bytes('II', 0x2a, 0, 8, 0, 0, 0), 'image/tiff'],
    ['big-endian TIFF', bytes('MM', 0, 0x2a, 0, 0, 0, 8), 'image/tiff'],
    ['AVIF', ftyp('avif', 'mif1', 'miaf'), 'image/avif'],
    ['AVIF sequence', ftyp('avis', 'msf1'), 'image/avif'],
    ['AVIF under a generic HEIF brand', ftyp('mif1', 'avif', 'miaf'), 'image/avif'],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), 'image/heic'],
    ['generic HEIF', ftyp('mif1', 'mif1'), 'image/heif'],
    ['an MP4 video', ftyp('isom', 'iso2', 'mp41'), undefined],
    ['a WAV file (RIFF, not WEBP)', bytes('RIFF', 0x24, 0, 0, 0, 'WAVEfmt '), undefined],
    ['text', bytes('hello, this is not an image'), undefined],
    ['a PDF', bytes('%PDF-1.7\n'), undefined],
    ['nothing', bytes(), undefined],
    ['two bytes of a JPEG', bytes(0xff, 0xd8), undefined],
  ];
  for (const [name, head, type] of table) {
    it(`${name} -> ${type ?? 'not an image'}`, function () {
      expect(sniffImageType(head)).to.equal(type);
    });
  }
});

describe('image renditions', function () {
  this.timeout(60_000);
  let photo: Buffer;

  before(async function () {
    photo = await syntheticPhoto({ seed: 7 });
  });

  describe('inspectImage', function () {
    it('reads the type and dimensions of a 12-megapixel photo', async function () {
      expect(photo.length, 'the generated photo must not compress trivially').to.be.above(2_000_000);
      expect(await inspectImage(photo)).to.deep.equal({ type: 'image/jpeg', width: 4000, height: 3000 });
    });

    it('reports dimensions as displayed for an EXIF-rotated photo', async function () {
      const sideways = await twoToneJpeg(300, 200, '#ff0000', '#0000ff', { orientation: 6 });
      expect(await inspectImage(sideways)).to.deep.equal({ type: 'image/jpeg', width: 200, height: 300 });
    });

    it('rejects a text file as not an image', async function () {
      await expectRejected(inspectImage(Buffer.from('name,password\nbank,hunter2\n')), 'not_an_image', /^the file is not an image: its first bytes match no image format$/);
    });

    it('rejects a JPEG cut off inside its header as corrupt', async function () {
      await expectRejected(inspectImage(photo.subarray(0, 120)), 'corrupt', /^the image\/jpeg file cannot be read: the file is cut short, its picture data ends early \(.+\)$/);
    });

    it('rejects HEIC as an unsupported type', async function () {
      const heic = Buffer.concat([ftyp('heic', 'mif1', 'heic'), Buffer.alloc(200)]);
      await expectRejected(inspectImage(heic), 'unsupported_type', /^image\/heic images are not supported; use JPEG, PNG, WebP, GIF, AVIF or TIFF$/);
    });

    it('rejects decompression bombs from their header alone, quickly', async function () {
      const png = await pngClaiming(50_000, 50_000);
      const jpeg = await jpegClaiming(60_000, 60_000);
      expect(png.length).to.be.below(1_000);
      const started = performance.now();
      await expectRejected(inspectImage(png), 'too_many_pixels', /^the image is 50000 x 50000 pixels \(2500 megapixels\); the limit is 100 megapixels$/);
      await expectRejected(inspectImage(jpeg), 'too_many_pixels', /^the image is 60000 x 60000 pixels/);
      expect(performance.now() - started).to.be.below(500);
    });

    it('applies a configured pixel limit', async function () {
      await expectRejected(inspectImage(photo, { maxPixels: 10_000_000 }), 'too_many_pixels', /4000 x 3000 pixels \(12 megapixels\); the limit is 10 megapixels/);
    });
  });

  describe('makeCover', function () {
    it('makes a 120x120 JPEG of a 12-megapixel photo', async function () {
      const cover = await makeCover(photo);
      expect([cover.type, cover.width, cover.height]).to.deep.equal(['image/jpeg', COVER_SIZE, COVER_SIZE]);
      const metadata = await sharp(cover.bytes).metadata();
      expect([metadata.format, metadata.width, metadata.height]).to.deep.equal(['jpeg', 120, 120]);
    });

    it('crops a wide image to its middle square, upright by its EXIF orientation', async function () {
      // Stored 300x200, red left and blue right; orientation 6 turns it a quarter clockwise: red on top.
      const sideways = await twoToneJpeg(300, 200, '#ff0000', '#0000ff', { orientation: 6 });
      // Alone (shrink-on-load) and as the worker makes it (from the decoded original).
      for (const cover of [await makeCover(sideways), (await makeRenditions(sideways)).cover]) {
        expect([cover.width, cover.height]).to.deep.equal([120, 120]);
        const [topRed, , topBlue] = await meanColour(cover.bytes, { left: 40, top: 5, width: 40, height: 20 });
        const [bottomRed, , bottomBlue] = await meanColour(cover.bytes, { left: 40, top: 95, width: 40, height: 20 });
        expect(topRed).to.be.above(200);
        expect(topBlue).to.be.below(60);
        expect(bottomBlue).to.be.above(200);
        expect(bottomRed).to.be.below(60);
      }
    });

    it('puts transparency on white', async function () {
      const transparent = await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
      const cover = await makeCover(transparent);
      const [r, g, b] = await meanColour(cover.bytes, { left: 0, top: 0, width: 120, height: 120 });
      expect(Math.min(r, g, b)).to.be.above(245);
    });
  });

  describe('makeCompact', function () {
    it('brings a 12-megapixel photo under 1 MB, keeping its aspect ratio', async function () {
      const compact = await makeCompact(photo);
      expect(compact.type).to.equal('image/jpeg');
      expect(compact.bytes.length).to.be.at.most(1_000_000);
      // Not needlessly small either: the budget is used.
      expect(compact.bytes.length).to.be.above(500_000);
      expect(compact.width / compact.height).to.be.closeTo(4 / 3, 0.01);
      const metadata = await sharp(compact.bytes).metadata();
      expect([metadata.format, metadata.width, metadata.height]).to.deep.equal(['jpeg', compact.width, compact.height]);
    });

    it('lowers the quality step by step before giving up pixels', async function () {
      const small = await syntheticPhoto({ width: 1600, height: 1200, seed: 3 });
      const sizeAt = async (quality: number) => (await sharp(small).jpeg({ quality, optimiseCoding: false }).toBuffer()).length;
      const [at85, at75, at65] = [await sizeAt(85), await sizeAt(75), await sizeAt(65)];
      // A budget that quality 85 and 75 miss and 65 meets.
      const maxBytes = Math.floor((at65 + at75) / 2);
      expect(at85).to.be.above(maxBytes);
      const compact = await makeCompact(small, { maxBytes });
      expect([compact.width, compact.height]).to.deep.equal([1600, 1200]);
      expect(compact.bytes.length).to.equal(at65);
    });

    it('keeps an image that fits at the first quality step as it is', async function () {
      // EXIF makes it a copy to re-encode (an original without any would be its own compact copy).
      const small = await sharp(await syntheticPhoto({ width: 800, height: 600, seed: 4 })).withExif({ IFD0: { Copyright: 'Keeper test' } }).jpeg({ quality: 90 }).toBuffer();
      const compact = await makeCompact(small);
      expect([compact.width, compact.height]).to.deep.equal([800, 600]);
      expect(compact.bytes.length).to.equal((await sharp(small).jpeg({ quality: 85, optimiseCoding: false }).toBuffer()).length);
    });

    it('keeps all 12 megapixels of a smooth photo that fits the budget', async function () {
      const smooth = await sharp(photo).blur(6).jpeg({ quality: 92 }).toBuffer();
      const compact = await makeCompact(smooth);
      expect([compact.width, compact.height]).to.deep.equal([4000, 3000]);
      expect(compact.bytes.length).to.be.at.most(1_000_000);
    });

    it('honours a smaller budget', async function () {
      const compact = await makeCompact(photo, { maxBytes: 200_000 });
      expect(compact.bytes.length).to.be.at.most(200_000);
      expect(compact.width).to.be.below(4000);
    });

    it('turns an EXIF-rotated photo upright', async function () {
      const sideways = await twoToneJpeg(300, 200, '#ff0000', '#0000ff', { orientation: 6 });
      const compact = await makeCompact(sideways);
      expect([compact.width, compact.height]).to.deep.equal([200, 300]);
      const [topRed] = await meanColour(compact.bytes, { left: 50, top: 10, width: 100, height: 50 });
      const [, , bottomBlue] = await meanColour(compact.bytes, { left: 50, top: 240, width: 100, height: 50 });
      expect(topRed).to.be.above(200);
      expect(bottomBlue).to.be.above(200);
    });
  });

  describe('an original that already fits the budget', function () {
    it('is its own compact copy when web-safe and bare: the same bytes, never a bigger JPEG', async function () {
      const base = sharp(await syntheticPhoto({ width: 800, height: 600, seed: 9 }));
      const originals: Array<[string, Buffer, string]> = [
        ['a 1x1 PNG', await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer(), 'image/png'],
        ['a WebP photo', await base.clone().webp({ quality: 80 }).toBuffer(), 'image/webp'],
        ['a GIF', await base.clone().resize(160, 120).gif().toBuffer(), 'image/gif'],
        ['a JPEG without metadata', await base.clone().jpeg({ quality: 80 }).toBuffer(), 'image/jpeg'],
        ['a PNG with transparency', await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer(), 'image/png'],
      ];
      for (const [what, bytes, type] of originals) {
        const info = await inspectImage(bytes);
        for (const compact of [await makeCompact(bytes), (await makeRenditions(bytes)).compact]) {
          expect(compact.bytes.equals(bytes), what).to.equal(true);
          expect([compact.type, compact.width, compact.height], what).to.deep.equal([type, info.width, info.height]);
        }
        // The cover is still made, and small.
        expect((await makeRenditions(bytes)).cover.type, what).to.equal('image/jpeg');
      }
    });

    it('is re-encoded when it carries metadata or an orientation, is not web-safe, or is over the budget', async function () {
      const base = sharp(await syntheticPhoto({ width: 400, height: 300, seed: 10 }));
      const tagged = await base.clone().withExif({ IFD0: { Copyright: 'Secret Location Ltd' } }).jpeg().toBuffer();
      const sideways = await twoToneJpeg(300, 200, '#ff0000', '#0000ff', { orientation: 6 });
      const tiff = await base.clone().tiff().toBuffer();
      const png = await base.clone().png().toBuffer();
      for (const [what, bytes, maxBytes] of [['EXIF', tagged, undefined], ['orientation', sideways, undefined], ['TIFF', tiff, undefined], ['over the budget', png, 20_000]] as const) {
        const compact = await makeCompact(bytes, maxBytes ? { maxBytes } : {});
        expect(compact.type, what).to.equal('image/jpeg');
        expect(compact.bytes.equals(bytes), what).to.equal(false);
        expect(compact.bytes.length, what).to.be.at.most(maxBytes ?? 1_000_000);
        expect((await sharp(compact.bytes).metadata()).exif, what).to.equal(undefined);
      }
    });

    it('is still decoded whole for its cover, so a small file cut short is refused', async function () {
      const jpeg = await sharp(await syntheticPhoto({ width: 400, height: 300, seed: 12 })).jpeg().toBuffer();
      await expectRejected(makeRenditions(jpeg.subarray(0, jpeg.length >> 1)), 'corrupt', /cut short/);
    });
  });

  describe('makeRenditions', function () {
    it('makes both from one decoding: a 120x120 cover and the same compact copy as makeCompact', async function () {
      const { cover, compact } = await makeRenditions(photo);
      expect([cover.type, cover.width, cover.height]).to.deep.equal(['image/jpeg', 120, 120]);
      const alone = await makeCompact(photo);
      expect(compact.bytes.equals(alone.bytes)).to.equal(true);
      expect(compact.bytes.length).to.be.at.most(1_000_000);
    });

    it('handles a canvas too large to hold decoded (45 megapixels) by decoding it per attempt', async function () {
      const huge = await sharp({ create: { width: 7800, height: 5800, channels: 3, background: '#3a6ea5' } }).jpeg({ quality: 90 }).toBuffer();
      const { cover, compact } = await makeRenditions(huge);
      expect([cover.width, cover.height]).to.deep.equal([120, 120]);
      expect([compact.width, compact.height]).to.deep.equal([7800, 5800]);
      expect(compact.bytes.length).to.be.at.most(1_000_000);
    });

    it('rejects what makeCover and makeCompact reject', async function () {
      await expectRejected(makeRenditions(Buffer.from('plain text')), 'not_an_image', /not an image/);
      await expectRejected(makeRenditions(await pngClaiming(20_000, 20_000)), 'too_many_pixels', /20000 x 20000/);
      await expectRejected(makeRenditions(photo.subarray(0, photo.length >> 1)), 'corrupt', /premature end/i);
    });
  });

  describe('metadata and bad input', function () {
    it('strips EXIF (orientation, camera, copyright) from both renditions', async function () {
      const tagged = await twoToneJpeg(300, 200, '#ff0000', '#0000ff', { orientation: 6, copyright: 'Secret Location Ltd' });
      const source = await sharp(tagged).metadata();
      expect(source.exif, 'the test input carries EXIF').to.be.instanceOf(Buffer);
      expect(source.orientation).to.equal(6);
      const both = await makeRenditions(tagged);
      for (const rendition of [await makeCover(tagged), await makeCompact(tagged), both.cover, both.compact]) {
        const metadata = await sharp(rendition.bytes).metadata();
        expect(metadata.exif).to.equal(undefined);
        expect(metadata.orientation).to.equal(undefined);
        expect(metadata.xmp).to.equal(undefined);
        expect(rendition.bytes.includes('Secret Location')).to.equal(false);
        expect(rendition.bytes.includes('KeeperCam')).to.equal(false);
      }
    });

    it('rejects a truncated JPEG as corrupt when making renditions', async function () {
      const truncated = photo.subarray(0, Math.floor(photo.length / 2));
      // The header is intact, so inspection alone lets it through; decoding finds the end missing.
      expect(await inspectImage(truncated)).to.deep.equal({ type: 'image/jpeg', width: 4000, height: 3000 });
      await expectRejected(makeCover(truncated), 'corrupt', /^the image could not be decoded: the file is cut short, its picture data ends early \(VipsJpeg: premature end of JPEG image\)$/);
      await expectRejected(makeCompact(truncated), 'corrupt', /^the image could not be decoded: .*premature end/i);
    });

    it('rejects a text file and a decompression bomb before decoding', async function () {
      await expectRejected(makeCover(Buffer.from('just some text')), 'not_an_image', /not an image/);
      await expectRejected(makeCompact(Buffer.from('just some text')), 'not_an_image', /not an image/);
      const bomb = await pngClaiming(40_000, 40_000);
      const started = performance.now();
      await expectRejected(makeCover(bomb), 'too_many_pixels', /40000 x 40000/);
      await expectRejected(makeCompact(bomb), 'too_many_pixels', /40000 x 40000/);
      expect(performance.now() - started).to.be.below(500);
    });

    it('refuses a compact budget too small to mean anything', async function () {
      const error = await makeCompact(photo, { maxBytes: 500 }).then(
        () => expect.fail('expected a RangeError'),
        (rejected: unknown) => rejected,
      );
      expect(error).to.be.instanceOf(RangeError);
    });
  });
});
