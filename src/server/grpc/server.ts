import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { AuthServiceService } from '../../gen/keeper/v1/auth.js';
import { VaultServiceService } from '../../gen/keeper/v1/vault.js';
import { ImageServiceService } from '../../gen/keeper/v1/images.js';
import type { ImageService } from '../images/image-service.js';
import { imageHandlers } from './image-handlers.js';
import type { AuthService } from '../auth/service.js';
import type { VaultService } from '../vault/vault-service.js';
import type { VersionWatches } from '../watch/version-watches.js';
import { authInterceptor } from './auth-interceptor.js';
import { describeTransientFault, logUnlessTransient } from '../sql/transient-errors.js';
import { authHandlers } from './auth-handlers.js';
import { vaultHandlers } from './vault-handlers.js';
import { decodedSafely, decodedStrictly, refuseMalformedRequests } from './strict-decoding.js';
import { ServingHealth } from './health.js';
import { addReflection } from './reflection.js';
import { drainingInterceptor } from './draining.js';
import { dataFirstInterceptor } from './data-first.js';
import { OutgoingScheduler, type SchedulerOptions } from './outgoing-scheduler.js';
import { ServerMetrics } from './server-metrics.js';
import { widenReceiveWindow } from './receive-window.js';
import { sendPreFramedChunks } from './pre-framed-writes.js';
import { withLeanChunks } from '../../wire/image-chunk-codec.js';

export interface GrpcServerOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  tls?: { cert: Buffer; key: Buffer };
  /** Serve gRPC server reflection (default on). */
  reflection?: boolean;
  /** A cheap query: the health service says SERVING only while it succeeds. */
  healthProbe: () => Promise<unknown>;
  /** How often healthProbe runs (default 5 s). */
  healthIntervalMs?: number;
  /** How long calls in flight may run on after stop() before they are cut (default 20 s). */
  drainTimeoutMs?: number;
  /** Bounds of work in flight and how long images wait for data (the scheduler's defaults otherwise). */
  scheduling?: SchedulerOptions;
}

export interface RunningGrpcServer {
  address: string;
  port: number;
  /** Where every server-streamed message leaves. */
  scheduler: OutgoingScheduler;
  /** Calls, queues and bytes out, for /metrics. */
  metrics: ServerMetrics;
  stop(): Promise<void>;
}

export async function startGrpcServer(
  options: GrpcServerOptions,
  services: { auth: AuthService; vault: VaultService; images: ImageService; watches: VersionWatches },
  logger: Logger,
): Promise<RunningGrpcServer> {
  let draining = false;
  const out = new OutgoingScheduler(options.scheduling);
  const metrics = new ServerMetrics(out);
  const server = new Server({
    interceptors: [
      metrics.interceptor(),
      drainingInterceptor(
        () => draining,
        (method) => logger.debug({ method }, 'refused a call while draining'),
      ),
      dataFirstInterceptor(out),
      authInterceptor(
        services.auth,
        (reason) => logger.debug({ reason }, 'rejected access token'),
        logUnlessTransient(logger, 'could not check a session', 'warn'),
      ),
      refuseMalformedRequests((method, reason) => logger.debug({ method, reason }, 'refused a malformed request')),
    ],
    // One limit both ways. Responses stay far below it anyway: List and Pull are paged (1 MiB at
    // most) and a record, the largest thing sent alone, is at most 3.5 MiB (see vault.proto).
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    // Channelz (gRPC's live introspection) is not used here, and its per-call bookkeeping costs
    // every push.
    'grpc.enable_channelz': 0,
    // A Watch call is idle for as long as the vault does not change: pinging its connection keeps
    // NAT and proxy mappings open, and finds clients that are gone without a word.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  server.addService(metrics.countingBytes(decodedStrictly(AuthServiceService)), authHandlers(services.auth, logger));
  server.addService(metrics.countingBytes(decodedStrictly(VaultServiceService)), vaultHandlers(services.vault, services.watches, services.auth, logger, out));
  server.addService(metrics.countingBytes(withLeanChunks(decodedStrictly(ImageServiceService))), imageHandlers(services.images, logger, out));
  const health = new ServingHealth(options.healthProbe, {
    ...(options.healthIntervalMs !== undefined ? { intervalMs: options.healthIntervalMs } : {}),
    // One line per change, with the fault's code and sentence: a lost database is an incident, not a stack.
    onChange: (serving, err) =>
      serving
        ? logger.info('health: SERVING (the database answers)')
        : err
          ? logger.warn({ fault: describeTransientFault(err) }, 'health: NOT_SERVING (the database does not answer)')
          : undefined,
  });
  // The standard services decode with proto-loader: a request it cannot read is refused too.
  const guarded: Pick<Server, 'addService'> = { addService: (service, implementation) => server.addService(decodedSafely(service), implementation) };
  health.addToServer(guarded);
  if (options.reflection ?? true) addReflection(guarded);
  await health.start();

  const credentials = options.tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false)
    : ServerCredentials.createInsecure();
  const target = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, credentials, (error, boundPort) =>
      error ? reject(new Error(`cannot listen on ${target}: ${/EADDRINUSE/.test(error.message) ? 'the address is already in use' : error.message}`)) : resolve(boundPort),
    ),
  );
  if (!sendPreFramedChunks()) logger.warn('download chunks are copied into a fresh frame each (more garbage under image load): this @grpc/grpc-js frames messages elsewhere (see pre-framed-writes.ts)');
  if (!widenReceiveWindow(server)) logger.warn('uploads keep HTTP/2\'s 64 KiB receive window: this @grpc/grpc-js keeps its HTTP/2 servers elsewhere (see receive-window.ts)');
  const address = options.host.includes(':') ? `[${options.host}]:${port}` : `${options.host}:${port}`;
  return {
    address,
    port,
    scheduler: out,
    metrics,
    stop: () =>
      new Promise<void>((resolve) => {
        // Health checkers see NOT_SERVING, new calls are refused (clients take them elsewhere), and
        // Watch streams (health's and the vault's) end, since a Watch never ends by itself. Calls
        // in flight run on until they finish or the drain time is up; a download cut then resumes
        // elsewhere from its offset.
        draining = true;
        health.drain();
        services.watches.drain();
        const drainMs = options.drainTimeoutMs ?? 20_000;
        logger.info({ drainMs }, 'draining: refusing new calls, finishing the ones in flight');
        const force = setTimeout(() => {
          logger.warn({ drainMs }, 'drain time is up: cutting the calls still in flight');
          server.forceShutdown();
        }, drainMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
