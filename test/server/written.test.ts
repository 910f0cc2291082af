import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { written } from '../../src/server/grpc/drained.js';

/** A server stream that calls a write back only when told to. */
class FakeStream extends EventEmitter {
  readonly callbacks: Array<() => void> = [];
  write(_message: unknown, callback: () => void): boolean {
    this.callbacks.push(callback);
    return true;
  }
}
const asCall = (stream: FakeStream) => stream as unknown as ServerWritableStream<unknown, unknown>;

describe('a message written and waited for', () => {
  it('answers true once its write is called back: its bytes may then be used again', async () => {
    const stream = new FakeStream();
    const done = written(asCall(stream), 'a');
    stream.callbacks[0]!();
    expect(await done).to.equal(true);
  });

  for (const event of ['cancelled', 'close', 'error']) {
    it(`answers false when the call ends (${event}) before the write is called back, even if it is called back later`, async () => {
      const stream = new FakeStream();
      const done = written(asCall(stream), 'a');
      stream.emit(event, event === 'error' ? new Error('gone') : undefined);
      stream.callbacks[0]!();
      expect(await done).to.equal(false);
      // And any write after that, at once.
      expect(await written(asCall(stream), 'b')).to.equal(false);
    });
  }

  it('watches a stream with one listener per event however many messages it writes', async () => {
    const stream = new FakeStream();
    for (let i = 0; i < 100; i++) {
      const done = written(asCall(stream), i);
      stream.callbacks[i]!();
      expect(await done).to.equal(true);
    }
    expect(['cancelled', 'close', 'error'].map((event) => stream.listenerCount(event))).to.deep.equal([1, 1, 1]);
  });
});
