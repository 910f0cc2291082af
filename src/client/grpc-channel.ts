import { readFileSync } from 'node:fs';
import { credentials, Metadata, status, type CallOptions, type ServiceError, type ChannelCredentials } from '@grpc/grpc-js';
import { AuthServiceClient } from '../gen/keeper/v1/auth.js';
import { VaultServiceClient } from '../gen/keeper/v1/vault.js';

export interface ChannelOptions {
  server: string;
  tls: boolean;
  tlsCa?: string | undefined;
}

export interface GrpcClients {
  auth: AuthServiceClient;
  vault: VaultServiceClient;
  close(): void;
}

export function openClients(options: ChannelOptions): GrpcClients {
  const creds: ChannelCredentials = options.tls
    ? credentials.createSsl(options.tlsCa ? readFileSync(options.tlsCa) : null)
    : credentials.createInsecure();
  const channelOptions = { 'grpc.max_receive_message_length': 256 * 1024 * 1024 };
  const auth = new AuthServiceClient(options.server, creds, channelOptions);
  const vault = new VaultServiceClient(options.server, creds, channelOptions);
  return {
    auth,
    vault,
    close() {
      auth.close();
      vault.close();
    },
  };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls a generated unary method as a promise, with a deadline. */
export function callUnary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

export function isServiceError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && typeof (error as ServiceError).code === 'number' && 'details' in error;
}

export function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export { status };
