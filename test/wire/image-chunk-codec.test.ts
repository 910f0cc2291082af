import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DownloadImageResponse, ImageServiceService, Rendition, UploadImageRequest } from '../../src/gen/keeper/v1/images.js';
import { withLeanChunks } from '../../src/wire/image-chunk-codec.js';

const lean = withLeanChunks(ImageServiceService);
const generated = ImageServiceService;

/** The lean chunk codecs put the same bytes on the wire as ts-proto's and read back the same messages. */
describe('image chunk codecs without copies', () => {
  for (const size of [0, 1, 127, 128, 16_383, 16_384, 65_536, 2_097_152]) {
    it(`encodes and decodes a ${size}-byte chunk exactly as the generated code does`, () => {
      const chunk = randomBytes(size);
      const upload: UploadImageRequest = { part: { $case: 'chunk', value: chunk } };
      const download: DownloadImageResponse = { part: { $case: 'chunk', value: chunk } };
      const uploadBytes = lean.uploadImage.requestSerialize(upload);
      const downloadBytes = lean.downloadImage.responseSerialize(download);
      expect(uploadBytes.equals(generated.uploadImage.requestSerialize(upload))).to.equal(true);
      expect(downloadBytes.equals(generated.downloadImage.responseSerialize(download))).to.equal(true);
      expect(lean.uploadImage.requestDeserialize(uploadBytes)).to.deep.equal(generated.uploadImage.requestDeserialize(uploadBytes));
      expect(lean.downloadImage.responseDeserialize(downloadBytes)).to.deep.equal(generated.downloadImage.responseDeserialize(downloadBytes));
    });
  }

  it('reads a chunk inside a larger buffer (as grpc-js may hand it over) without the bytes around it', () => {
    const chunk = randomBytes(300);
    const wire = lean.downloadImage.responseSerialize({ part: { $case: 'chunk', value: chunk } });
    const around = Buffer.concat([Buffer.from([1, 2, 3]), wire, Buffer.from([4, 5])]);
    const decoded = lean.downloadImage.responseDeserialize(around.subarray(3, 3 + wire.length));
    expect(decoded.part?.$case === 'chunk' && Buffer.from(decoded.part.value).equals(chunk)).to.equal(true);
  });

  it('leaves headers, and chunk messages with anything besides the chunk, to the generated code', () => {
    const header: UploadImageRequest = {
      part: { $case: 'header', value: { imageId: 'i', recordId: 'r', fileName: 'a.jpg', declaredType: 'image/jpeg', size: 3, sha256: 'ab', encrypted: false, rendition: Rendition.RENDITION_ORIGINAL } },
    };
    const headerBytes = lean.uploadImage.requestSerialize(header);
    expect(headerBytes.equals(generated.uploadImage.requestSerialize(header))).to.equal(true);
    expect(lean.uploadImage.requestDeserialize(headerBytes)).to.deep.equal(header);
    // Two chunk fields: the last wins in protobuf, which only the generated decoder knows.
    const twice = Buffer.concat([
      generated.downloadImage.responseSerialize({ part: { $case: 'chunk', value: Buffer.from('first') } }),
      generated.downloadImage.responseSerialize({ part: { $case: 'chunk', value: Buffer.from('second') } }),
    ]);
    expect(lean.downloadImage.responseDeserialize(twice)).to.deep.equal(generated.downloadImage.responseDeserialize(twice));
    expect(lean.downloadImage.responseDeserialize(twice).part).to.deep.equal({ $case: 'chunk', value: Buffer.from('second') });
    // Truncated: the generated decoder's error, not a short view.
    const cut = lean.uploadImage.requestSerialize({ part: { $case: 'chunk', value: randomBytes(1000) } }).subarray(0, 900);
    expect(() => lean.uploadImage.requestDeserialize(cut)).to.throw();
  });

  it("on the server's side, encodes download chunks into one reused buffer, the same bytes as the generated code", () => {
    const server = withLeanChunks(ImageServiceService, { reuseDownloadBytes: true });
    const first = randomBytes(65_536);
    const second = randomBytes(1000);
    const firstBytes = server.downloadImage.responseSerialize({ part: { $case: 'chunk', value: first } });
    expect(firstBytes.equals(generated.downloadImage.responseSerialize({ part: { $case: 'chunk', value: first } }))).to.equal(true);
    const secondBytes = server.downloadImage.responseSerialize({ part: { $case: 'chunk', value: second } });
    expect(secondBytes.equals(generated.downloadImage.responseSerialize({ part: { $case: 'chunk', value: second } }))).to.equal(true);
    expect(secondBytes.buffer).to.equal(firstBytes.buffer);
    // Uploads (the client's side) still get a buffer of their own each.
    const upload = server.uploadImage.requestSerialize({ part: { $case: 'chunk', value: second } });
    expect(upload.buffer).to.not.equal(firstBytes.buffer);
  });
});
