import { expect } from 'chai';
import sharp from 'sharp';
import { ACCEPTED_IMAGE_FORMATS, ACCEPTED_IMAGE_NAMES, ACCEPTED_IMAGE_TYPES } from '../../src/domain/image-types.js';
import { ImageRejected, inspectImage } from '../../src/imaging/inspect.js';
import { attachForm, attachLines } from '../../src/client/tui/screens/images.js';
import { stripTags } from '../../src/client/tui/kit/text.js';
import { keeper } from '../support/cli.js';

const FORMAT_WORDS = /\b(JPEG|PNG|WebP|GIF|AVIF|HEIF|HEIC|TIFF|BMP)\b/g;

describe('the accepted image formats, from one list', () => {
  it('are exactly what the server takes: each listed format passes its check, HEIC does not', async function () {
    this.timeout(30_000);
    const pixels = sharp({ create: { width: 16, height: 12, channels: 3, background: '#3a6' } });
    for (const format of ACCEPTED_IMAGE_FORMATS) {
      const id = format.name.toLowerCase() as 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';
      const bytes = await pixels.clone().toFormat(id).toBuffer();
      expect(await inspectImage(bytes), format.name).to.include({ type: format.type, width: 16, height: 12 });
    }
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic'), Buffer.alloc(64)]);
    const refusal = await inspectImage(heic).catch((error: unknown) => error);
    expect(refusal).to.be.instanceOf(ImageRejected);
    expect((refusal as Error).message).to.equal(`image/heic images are not supported; use ${ACCEPTED_IMAGE_NAMES}`);
    expect(ACCEPTED_IMAGE_TYPES.has('image/heic') || ACCEPTED_IMAGE_TYPES.has('image/heif')).to.equal(false);
  });

  it('are what the TUI attach dialog promises, no more', () => {
    const text = attachLines(attachForm('r', 'Passport'), 200, { busy: false }).map(stripTags).join(' ');
    expect(text.match(FORMAT_WORDS)).to.deep.equal(ACCEPTED_IMAGE_FORMATS.map((format) => format.name));
  });

  it('are what keeper image add --help promises, no more', async function () {
    this.timeout(30_000);
    const help = await keeper(['image', 'add', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout.match(FORMAT_WORDS)).to.deep.equal(ACCEPTED_IMAGE_FORMATS.map((format) => format.name));
  });
});
