import { expect } from 'chai';
import { DownloadBuffers } from '../../src/server/grpc/download-buffers.js';

describe('download buffers', () => {
  it('hands a returned buffer to the next download instead of a fresh one, and keeps only so many idle', () => {
    const buffers = new DownloadBuffers(1024, 2);
    const [a, b, c] = [buffers.take(), buffers.take(), buffers.take()];
    expect(new Set([a, b, c]).size).to.equal(3);
    buffers.give(a);
    buffers.give(b);
    buffers.give(c);
    expect(buffers.kept).to.equal(2);
    const again = [buffers.take(), buffers.take()];
    expect(again).to.have.members([a, b]);
    expect(buffers.take()).to.not.be.oneOf([a, b, c]);
  });

  it('does not keep a buffer of another size', () => {
    const buffers = new DownloadBuffers(1024, 2);
    buffers.give(Buffer.alloc(10));
    expect(buffers.kept).to.equal(0);
  });
});
