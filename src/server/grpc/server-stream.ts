import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toGrpcStatus } from './errors.js';
import type { OutgoingScheduler } from './outgoing-scheduler.js';

const cancelled = Symbol('cancelled');

/**
 * Adapts an async server-streaming handler to grpc-js: `send` goes out in the scheduler's data
 * lane and waits for HTTP/2 flow control before
 * the handler produces more (a slow client never makes the server buffer the whole answer), a call
 * the client cancelled stops at its next send, and a thrown error becomes the call's status.
 */
export function serverStream<Req, Res>(logger: Logger, out: OutgoingScheduler, fn: (call: ServerWritableStream<Req, Res>, send: (message: Res) => Promise<void>) => Promise<void>) {
  return (call: ServerWritableStream<Req, Res>) => {
    const send = async (message: Res) => {
      if (call.cancelled || !(await out.send(call, message, 'data'))) throw cancelled;
    };
    fn(call, send).then(
      () => call.end(),
      (error: unknown) => {
        if (error === cancelled) return;
        const grpcStatus = toGrpcStatus(error, logger);
        call.emit('error', Object.assign(new Error(grpcStatus.details), grpcStatus));
      },
    );
  };
}
