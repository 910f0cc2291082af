import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import { sendPreFramedChunks } from '../../src/server/grpc/pre-framed-writes.js';
import { CHUNK_FRAME_ROOM, PRE_FRAMED, framedChunk } from '../../src/wire/image-chunk-codec.js';

/** grpc-js's own framing, called the way its sendMessage calls it, on a call whose serializer is `serialize`. */
function serializeMessage(value: unknown, serialize: (value: unknown) => Buffer): Buffer {
  const method = (BaseServerInterceptingCall as unknown as { prototype: { serializeMessage: (value: unknown) => Buffer } }).prototype.serializeMessage;
  return method.call({ handler: { serialize } }, value);
}

describe('download chunks framed in place, sent as they are', () => {
  before(() => {
    // (Installed by every gRPC server this process starts; here without one.)
    expect(sendPreFramedChunks()).to.equal(true);
  });

  it("hands HTTP/2 the chunk's own frame, no copy, after the service's serializer has seen the message", () => {
    const buffer = randomBytes(CHUNK_FRAME_ROOM + 65_536);
    const message = framedChunk(buffer, CHUNK_FRAME_ROOM, 65_536);
    const seen: unknown[] = [];
    const sent = serializeMessage(message, (value) => {
      seen.push(value);
      return Buffer.alloc(0);
    });
    expect(sent).to.equal(message[PRE_FRAMED]);
    expect(sent.buffer).to.equal(buffer.buffer);
    expect(seen).to.deep.equal([message]);
  });

  it('frames every other message as grpc-js does', () => {
    const bytes = Buffer.from('a header, say');
    const sent = serializeMessage({ part: { $case: 'header' } }, () => bytes);
    expect(sent.equals(Buffer.concat([Buffer.from([0, 0, 0, 0, bytes.length]), bytes]))).to.equal(true);
  });

  it('is installed once, however many servers start', () => {
    const method = (BaseServerInterceptingCall as unknown as { prototype: { serializeMessage: unknown } }).prototype.serializeMessage;
    expect(sendPreFramedChunks()).to.equal(true);
    expect((BaseServerInterceptingCall as unknown as { prototype: { serializeMessage: unknown } }).prototype.serializeMessage).to.equal(method);
  });
});
