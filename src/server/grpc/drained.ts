import type { ServerWritableStream } from '@grpc/grpc-js';

/** Resolves when a server stream may take more (HTTP/2 flow control), or the call is gone. */
export function drained<Req, Res>(call: ServerWritableStream<Req, Res>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}
