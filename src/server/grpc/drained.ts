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

/** A stream's write in progress, and whether the stream is gone; watched by one set of listeners per stream. */
interface WriteWatch {
  pending: ((calledBack: boolean) => void) | undefined;
  gone: boolean;
}

const watches = new WeakMap<object, WriteWatch>();

/** The stream's watch, its listeners added on the first write (not three more per message: a download writes thousands). */
function watchOf<Req, Res>(call: ServerWritableStream<Req, Res>): WriteWatch {
  let watch = watches.get(call);
  if (watch === undefined) {
    const created: WriteWatch = { pending: undefined, gone: false };
    const gone = () => {
      created.gone = true;
      const pending = created.pending;
      created.pending = undefined;
      pending?.(false);
    };
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    watches.set(call, created);
    watch = created;
  }
  return watch;
}

/**
 * Writes one message and resolves once it has left the process (grpc-js calls a write back when
 * HTTP/2 has handed its frames to the socket), or the call is gone. Awaited before the next
 * message, a stream keeps one message at most queued in the server instead of the stream's
 * buffer of 16. Answers true only when the write was called back: the message's bytes are then
 * no longer held by anyone, and their buffer may be used again. One write at a time per stream.
 */
export function written<Req, Res>(call: ServerWritableStream<Req, Res>, message: Res): Promise<boolean> {
  const watch = watchOf(call);
  if (watch.gone) return Promise.resolve(false);
  return new Promise((resolve) => {
    watch.pending = resolve;
    call.write(message, () => {
      if (watch.pending === resolve) watch.pending = undefined;
      resolve(true);
    });
  });
}
