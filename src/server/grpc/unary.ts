import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toGrpcStatus } from './errors.js';

/** Adapts an async handler to grpc-js, turning every thrown error into a status. */
export function unary<Req, Res>(logger: Logger, fn: (call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatus(error, logger)),
    );
  };
}
