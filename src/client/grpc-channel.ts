import { Channel, credentials, makeGenericClientConstructor, Metadata, status, type CallOptions, type ServiceError, type ChannelCredentials } from '@grpc/grpc-js';
import { readSettingFile } from '../config/env.js';
import { AuthServiceClient } from '../gen/keeper/v1/auth.js';
import { balancingOptions, grpcTarget } from './server-target.js';
import { VaultServiceClient } from '../gen/keeper/v1/vault.js';
import { ImageServiceService, type ImageServiceClient } from '../gen/keeper/v1/images.js';
import { withLeanChunks } from '../wire/image-chunk-codec.js';

/** The generated client with image chunks encoded and decoded without ts-proto's copies. */
const LeanImageServiceClient = makeGenericClientConstructor(withLeanChunks(ImageServiceService), 'keeper.v1.ImageService') as unknown as new (
  ...args: ConstructorParameters<typeof AuthServiceClient>
) => ImageServiceClient;

export interface ChannelOptions {
  /** One host:port, several separated by commas, or dns:///name:port (every replica balanced over). */
  server: string;
  tls: boolean;
  tlsCa?: string | undefined;
  /**
   * 'bulk' asks for a connection of its own, for image transfers: on one HTTP/2 connection a
   * large download would sit in front of the small calls a user waits on.
   */
  purpose?: 'data' | 'bulk' | undefined;
}

export interface GrpcClients {
  auth: AuthServiceClient;
  vault: VaultServiceClient;
  images: ImageServiceClient;
  /** Starts connecting now (a channel otherwise connects at its first call). */
  connect(): void;
  close(): void;
}

interface PooledChannel {
  clients: Omit<GrpcClients, 'close' | 'connect'>;
  channel: Channel;
  users: number;
}

/**
 * One channel (one HTTP/2 connection, one resolver and balancer) per server address in the
 * process, whatever the number of users on it: a process holding many logged-in users (the HTTP
 * agent, the bot) would otherwise open a connection per user.
 */
const pool = new Map<string, PooledChannel>();

/** The channels open now (for tests and diagnostics). */
export function openChannelCount(): number {
  return pool.size;
}

/** The service clients on the shared channel to this server; `close` lets go of this use of it. */
export function openClients(options: ChannelOptions): GrpcClients {
  const key = JSON.stringify([options.server, options.tls, options.tlsCa ?? null, options.purpose ?? 'data']);
  let pooled = pool.get(key);
  if (!pooled) {
    pooled = connect(options);
    pool.set(key, pooled);
  }
  pooled.users++;
  const entry = pooled;
  let closed = false;
  return {
    ...entry.clients,
    connect() {
      entry.channel.getConnectivityState(true);
    },
    close() {
      if (closed) return;
      closed = true;
      if (--entry.users > 0) return;
      pool.delete(key);
      entry.channel.close();
    },
  };
}

function connect(options: ChannelOptions): PooledChannel {
  const creds: ChannelCredentials = options.tls
    ? credentials.createSsl(options.tlsCa ? readSettingFile(options.tlsCa, '--tls-ca / KEEPER_TLS_CA') : null)
    : credentials.createInsecure();
  // A window of 4 MiB instead of HTTP/2's 64 KiB lets an image download stream without waiting on
  // every window update (loopback image downloads went from about 80 to about 200 MB/s).
  // Channelz (gRPC's live introspection) is not used, and its per-call bookkeeping costs every call.
  // The receive limit stays gRPC's default (4 MiB): the server pages List and Pull well below it.
  // A bulk channel keeps its own subchannels (grpc-js would otherwise share the connection of a
  // channel to the same address). A Watch call hears nothing for as long as the vault stays as it
  // is: pinging while a call is open tells a server that went away without a word (a host or
  // network gone) from a quiet one, so the watch is opened again instead of waiting forever.
  const channelOptions = {
    'grpc-node.flow_control_window': 4 * 1024 * 1024,
    'grpc.enable_channelz': 0,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    ...balancingOptions(),
    ...(options.purpose === 'bulk' ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  };
  const target = grpcTarget(options.server);
  const channel = new Channel(target, creds, channelOptions);
  const shared = { channelOverride: channel };
  return {
    channel,
    users: 0,
    clients: {
      auth: new AuthServiceClient(target, creds, shared),
      vault: new VaultServiceClient(target, creds, shared),
      images: new LeanImageServiceClient(target, creds, shared),
    },
  };
}

/** A generated client's unary method. */
export type UnaryMethod<Req, Res> = (
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
