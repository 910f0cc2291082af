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

/**
 * Writes one message and resolves once it has left the process (grpc-js calls a write back when
 * HTTP/2 has handed its frames to the socket), or the call is gone. Awaited before the next
 * message, a stream keeps one message at most queued in the server instead of the stream's
 * buffer of 16.
 */
export function written<Req, Res>(call: ServerWritableStream<Req, Res>, message: Res): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('cancelled', done);
      call.off('close', done);
      call.off('error', done);
      resolve();
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.on('error', done);
    call.write(message, done);
  });
}
