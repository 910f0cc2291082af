import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DownloadImageResponse, ImageServiceService, Rendition, UploadImageRequest } from '../../src/gen/keeper/v1/images.js';
import { CHUNK_FRAME_ROOM, PRE_FRAMED, framedChunk, withLeanChunks } from '../../src/wire/image-chunk-codec.js';

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

  /** What grpc-js sends for a message: a byte saying "not compressed", the length (big-endian), the message. */
  const grpcFrame = (message: Buffer) => Buffer.concat([Buffer.from([0, message.length >>> 24, (message.length >>> 16) & 0xff, (message.length >>> 8) & 0xff, message.length & 0xff]), message]);

  for (const size of [1, 127, 128, 16_383, 16_384, 65_536, 1_048_576]) {
    it(`frames a ${size}-byte chunk in place as grpc-js frames the generated encoding, touching nothing before its frame`, () => {
      const buffer = randomBytes(CHUNK_FRAME_ROOM + 70_000 + size);
      const start = CHUNK_FRAME_ROOM + 70_000;
      const before = Buffer.from(buffer.subarray(0, 70_000));
      const chunk = Buffer.from(buffer.subarray(start));
      const message = framedChunk(buffer, start, size);
      const expected = grpcFrame(generated.downloadImage.responseSerialize({ part: { $case: 'chunk', value: chunk } }));
      expect(message[PRE_FRAMED].equals(expected)).to.equal(true);
      // One view of the buffer: no copy.
      expect(message[PRE_FRAMED].buffer).to.equal(buffer.buffer);
      expect(buffer.subarray(0, 70_000).equals(before)).to.equal(true);
      expect(message.part.value.equals(chunk)).to.equal(true);
      // The service's serializer (and the byte counters around it) sees the message's bytes, as a view.
      const serialized = lean.downloadImage.responseSerialize(message);
      expect(serialized.equals(expected.subarray(5))).to.equal(true);
      expect(serialized.buffer).to.equal(buffer.buffer);
    });
  }

  it('refuses to frame a chunk without room before it, or of 2 MiB and more', () => {
    // (A 50-byte chunk's frame takes 7 bytes: 5 of gRPC's, the tag, one of length.)
    expect(() => framedChunk(Buffer.alloc(100), 6, 50)).to.throw(RangeError);
    expect(framedChunk(Buffer.alloc(100), 7, 50)[PRE_FRAMED].length).to.equal(57);
    expect(() => framedChunk(Buffer.alloc(2 ** 21 + 9), 9, 2 ** 21)).to.throw(RangeError);
  });

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
});
