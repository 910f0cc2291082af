import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** What a call ended with: the status code and details, as any third-party client would see them. */
export interface RawOutcome {
  code: status;
  details: string;
  /** The response messages' bytes (one for unary and client-streaming calls). */
  messages: Buffer[];
}

export type MethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

const identity = (value: Buffer): Buffer => value;

/**
 * A gRPC client that sends exactly the bytes it is given, so tests can send what a buggy or
 * hostile client would: garbage, truncated or out-of-range protobuf, invalid UTF-8.
 */
export class RawGrpcClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  /** One call of `kind` to `path` ("/keeper.v1.VaultService/Push") with `requests` as the request messages. */
  call(path: string, kind: MethodKind, requests: Buffer[], token?: string, deadlineMs = 30_000): Promise<RawOutcome> {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    const options = { deadline: Date.now() + deadlineMs };
    const messages: Buffer[] = [];
    const outcome = (error: ServiceError | null): RawOutcome =>
      error ? { code: error.code, details: error.details, messages } : { code: status.OK, details: '', messages };
    return new Promise((resolve) => {
      if (kind === 'unary') {
        this.client.makeUnaryRequest(path, identity, identity, requests[0] ?? Buffer.alloc(0), metadata, options, (error, response) => {
          if (response) messages.push(response);
          resolve(outcome(error));
        });
      } else if (kind === 'serverStream') {
        const stream = this.client.makeServerStreamRequest(path, identity, identity, requests[0] ?? Buffer.alloc(0), metadata, options);
        stream.on('data', (message: Buffer) => messages.push(message));
        stream.on('error', (error: ServiceError) => resolve(outcome(error)));
        stream.on('end', () => resolve(outcome(null)));
      } else if (kind === 'bidi') {
        const stream = this.client.makeBidiStreamRequest(path, identity, identity, metadata, options);
        stream.on('data', (message: Buffer) => messages.push(message));
        stream.on('error', (error: ServiceError) => resolve(outcome(error)));
        stream.on('end', () => resolve(outcome(null)));
        for (const request of requests) stream.write(request);
        stream.end();
      } else {
        const stream = this.client.makeClientStreamRequest(path, identity, identity, metadata, options, (error, response) => {
          if (response) messages.push(response);
          resolve(outcome(error));
        });
        for (const request of requests) stream.write(request);
        stream.end();
      }
    });
  }
}
