import { expect } from 'chai';
import sharp from 'sharp';
import { structureCheck } from '../../src/imaging/structure.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { sniffImageType } from '../../src/imaging/sniff.js';
import { describeDecodeFailure } from '../../src/imaging/inspect.js';

/** Feeds `bytes` in pieces of `size` bytes, as an upload's chunks arrive. */
function check(bytes: Uint8Array, size: number): string | undefined {
  const checker = structureCheck(sniffImageType(bytes)!)!;
  for (let i = 0; i < bytes.length; i += size) checker.push(bytes.subarray(i, i + size));
  return checker.finish();
}

const CHUNKINGS = [1, 7, 4096, 65_536];

describe('structural checks of an upload', () => {
  const files: Record<string, Buffer> = {};
  before(async function () {
    this.timeout(30_000);
    const photo = await syntheticPhoto({ width: 640, height: 480, seed: 5 });
    const base = sharp(photo);
    files.jpeg = photo;
    files['progressive JPEG with restart markers and EXIF'] = await base
      .clone()
      .withExif({ IFD0: { Make: 'KeeperCam', Copyright: 'x'.repeat(300) } })
      .jpeg({ progressive: true, quality: 80 })
      .toBuffer();
    files.png = await base.clone().png().toBuffer();
    files.webp = await base.clone().webp().toBuffer();
    files.gif = await base.clone().resize(64, 48).gif().toBuffer();
  });

  it('passes whole files, however the chunks fall', () => {
    for (const [name, bytes] of Object.entries(files)) {
      for (const size of CHUNKINGS) expect(check(bytes, size), `${name} in chunks of ${size}`).to.equal(undefined);
    }
  });

  it('refuses a file cut short, saying what is wrong in plain words', () => {
    const sentences: Record<string, RegExp> = {
      jpeg: /^the JPEG file is cut short: it ends before its end marker$/,
      'progressive JPEG with restart markers and EXIF': /^the JPEG file is cut short: it ends before its end marker$/,
      png: /^the PNG file is cut short: it ends before its IEND chunk$/,
      webp: /^the WebP file is cut short: it has \d+ of the \d+ bytes its header declares$/,
      gif: /^the GIF file is cut short: it ends before its trailer$/,
    };
    for (const [name, bytes] of Object.entries(files)) {
      for (const share of [0.1, 0.5, 0.9, 0.999]) {
        const cut = bytes.subarray(0, Math.max(40, Math.floor(bytes.length * share)));
        for (const size of [7, 65_536]) expect(check(cut, size), `${name} cut at ${cut.length} of ${bytes.length}`).to.match(sentences[name]!);
      }
    }
    // Just the end marker missing.
    expect(check(files.jpeg!.subarray(0, -2), 4096)).to.match(/cut short/);
    expect(check(files.png!.subarray(0, -12), 4096)).to.match(/cut short/);
  });

  it('takes bytes after a JPEG end marker (some cameras append data), but not an end marker inside EXIF alone', () => {
    expect(check(Buffer.concat([files.jpeg!, Buffer.from('trailing camera data \xff\xd8\xff')]), 4096)).to.equal(undefined);
    // A thumbnail's end marker inside an APP1 segment does not end the image.
    const jpeg = files.jpeg!;
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0x00, 0x08]), Buffer.from([0xff, 0xd8, 0xff, 0xd9, 0x00, 0x00])]);
    const withThumbnail = Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
    expect(check(withThumbnail, 4096)).to.equal(undefined);
    expect(check(withThumbnail.subarray(0, 200), 4096)).to.match(/cut short/);
  });

  it('takes bytes after a GIF trailer, and an animated GIF with its extensions', async () => {
    expect(check(Buffer.concat([files.gif!, Buffer.from('padding')]), 5)).to.equal(undefined);
    const frame = (colour: string) => sharp({ create: { width: 16, height: 16, channels: 3, background: colour } }).png().toBuffer();
    const animated = await sharp([await frame('#f00'), await frame('#00f'), await frame('#0f0')], { join: { animated: true } }).gif({ loop: 0, delay: [100, 100, 100] }).toBuffer();
    expect((await sharp(animated, { pages: -1 }).metadata()).pages).to.equal(3);
    for (const gif of [animated, files.gif!]) {
      expect(check(gif, 3)).to.equal(undefined);
      expect(check(gif.subarray(0, -1), 3)).to.match(/cut short/);
    }
  });

  it('has no check for types without a cheap one', () => {
    expect(structureCheck('image/avif')).to.equal(undefined);
    expect(structureCheck('image/tiff')).to.equal(undefined);
  });
});

describe('plain words for what the decoder says', () => {
  it('says what is wrong in one sentence and keeps libvips words short, on one line', () => {
    const cases: Array<[string, RegExp]> = [
      ['VipsJpeg: premature end of JPEG image', /^the file is cut short, its picture data ends early \(VipsJpeg: premature end of JPEG image\)$/],
      ['Input buffer has corrupt header: gifload_buffer: Unexpected end of GIF source data', /^the file is cut short.*\(gifload_buffer: Unexpected end of GIF source data\)$/],
      ['Input buffer has corrupt header: VipsJpeg: Bogus Huffman table definition\nVipsJpeg: Bogus Huffman table definition', /^the picture data is damaged \(VipsJpeg: Bogus Huffman table definition\)$/],
      ['vipspng: libpng read error\nvips2png: unable to write to target target', /^the picture data is damaged \(vipspng: libpng read error\)$/],
      ['Input buffer contains unsupported image format', /^the file is in a form the image library cannot read \(Input buffer contains unsupported image format\)$/],
      [`source: bad seek to 241810\n${'source: bad seek to 1\n'.repeat(40)}heif: Invalid input: Unexpected end of file`, /^the file is cut short, its picture data ends early \(source: bad seek to 241810\)$/],
      ['something new: ' + 'x'.repeat(200), /^the picture data cannot be decoded \(something new: x+…\)$/],
    ];
    for (const [message, sentence] of cases) {
      const described = describeDecodeFailure(new Error(message));
      expect(described).to.match(sentence);
      expect(described).to.not.contain('\n');
      expect(described.length).to.be.below(180);
    }
  });
});
