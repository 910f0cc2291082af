import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, hostPort, logLevel, parseConfig, pick, splitHostPort } from './env.js';

const positiveInt = (what: string) => z.coerce.number({ message: `must be a number of ${what}` }).int('must be a whole number').positive('must be above zero');

/** The drivers parse these with WHATWG URL: a value it refuses would fail later as a bare "Invalid URL". */
const isUrl = (value: string) => URL.canParse(value);
const URL_PROBLEM = 'is not a valid URL (check the host and port, and percent-encode special characters in the user or password)';

const schema = z.object({
  dataDir: z.string().min(1).default('.keeper'),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .refine(isUrl, URL_PROBLEM)
    .optional(),
  eventStoreUrl: z
    .string()
    .regex(/^(kurrentdb|kdb|esdb|kurrentdb\+discover|esdb\+discover):\/\//, 'must be a kurrentdb:// (or esdb://) connection string')
    .refine(isUrl, URL_PROBLEM)
    .optional(),
  listen: hostPort.default('127.0.0.1:7070'),
  /** GET /healthz of a projector or imaging worker (they serve nothing else); off when not given. */
  healthListen: hostPort.optional(),
  tokenKey: z
    .string()
    .regex(/^k4\.secret\./, 'must be a PASERK k4.secret key (make one with `keeper keygen`)')
    .optional(),
  accessTtl: positiveInt('seconds').default(900),
  refreshTtl: positiveInt('seconds').default(30 * 24 * 3600),
  refreshReuseWindow: z.coerce.number({ message: 'must be a number of seconds' }).int('must be a whole number').min(0, 'must not be negative').max(300, 'must be at most 300 (a reuse window is for retries, not a second token)').default(10),
  sessionCheckMs: z.coerce.number({ message: 'must be a number of milliseconds' }).int('must be a whole number').min(0, 'must not be negative').max(60_000, 'must be at most 60000').default(1000),
  bcryptCost: z.coerce.number({ message: 'must be a number' }).int().min(10, 'must be at least 10').max(15, 'must be at most 15').default(12),
  // A record (up to 3.5 MiB) is sent alone in a message when it is listed or pulled: the limit
  // both ways may be raised, never lowered below gRPC's usual 4 MiB.
  maxMessageBytes: positiveInt('bytes').min(4 * 1024 * 1024, 'must be at least 4194304 (4 MiB): the largest record must fit one message').default(4 * 1024 * 1024),
  projector: z.enum(['inline', 'external'], { message: 'must be inline or external' }).default('inline'),
  reflection: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  natsUrl: z
    .string()
    .regex(/^(nats|tls):\/\//, 'must be a nats:// URL')
    .refine(isUrl, URL_PROBLEM)
    .optional(),
  imaging: z.enum(['inline', 'external'], { message: 'must be inline or external' }).default('inline'),
  natsPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - and _ only')
    .max(64, 'must be at most 64 characters')
    .optional(),
  imagingAckWait: positiveInt('seconds').default(30),
  blobDir: z.string().min(1).optional(),
  imageMaxBytes: positiveInt('bytes').default(25_000_000),
  imageMaxPixels: positiveInt('pixels').default(100_000_000),
  imagingConcurrency: positiveInt('jobs').max(64, 'must be at most 64').default(2),
  blobGcInterval: z.coerce.number({ message: 'must be a number of seconds' }).int('must be a whole number').nonnegative('must not be negative').default(3600),
  blobGrace: positiveInt('seconds').default(3600),
  deletedImageRetention: positiveInt('seconds').default(30 * 24 * 3600),
  drainSeconds: positiveInt('seconds').max(600, 'must be at most 600').default(20),
  maxDownloads: positiveInt('downloads').default(64),
  maxDownloadsPerUser: positiveInt('downloads').default(8),
  maxDataRequests: positiveInt('requests').default(1024),
  metricsListen: hostPort.optional(),
  logLevel,
});

export type ServerConfig = z.infer<typeof schema> & { host: string; port: number; blobDir: string };

const NAMES: Record<string, string> = {
  dataDir: '--data-dir / KEEPER_DATA_DIR',
  databaseUrl: '--database-url / KEEPER_DATABASE_URL',
  listen: '--listen / KEEPER_LISTEN',
  healthListen: '--health-listen / KEEPER_HEALTH_LISTEN',
  tokenKey: 'KEEPER_TOKEN_KEY',
  accessTtl: '--access-ttl / KEEPER_ACCESS_TTL',
  refreshTtl: '--refresh-ttl / KEEPER_REFRESH_TTL',
  refreshReuseWindow: 'KEEPER_REFRESH_REUSE_WINDOW',
  sessionCheckMs: 'KEEPER_SESSION_CHECK_MS',
  bcryptCost: 'KEEPER_BCRYPT_COST',
  maxMessageBytes: 'KEEPER_MAX_MESSAGE_BYTES',
  projector: '--projector / KEEPER_PROJECTOR',
  reflection: '--reflection / KEEPER_REFLECTION',
  tlsCert: '--tls-cert / KEEPER_TLS_CERT',
  tlsKey: '--tls-key / KEEPER_TLS_KEY',
  natsUrl: '--nats-url / KEEPER_NATS_URL',
  eventStoreUrl: '--event-store-url / KEEPER_EVENTSTORE_URL',
  imaging: '--imaging / KEEPER_IMAGING',
  natsPrefix: 'KEEPER_NATS_PREFIX',
  imagingAckWait: 'KEEPER_IMAGING_ACK_WAIT',
  blobDir: '--blob-dir / KEEPER_BLOB_DIR',
  imageMaxBytes: 'KEEPER_IMAGE_MAX_BYTES',
  imageMaxPixels: 'KEEPER_IMAGE_MAX_PIXELS',
  imagingConcurrency: '--concurrency / KEEPER_IMAGING_CONCURRENCY',
  blobGcInterval: 'KEEPER_BLOB_GC_INTERVAL',
  blobGrace: 'KEEPER_BLOB_GRACE',
  deletedImageRetention: 'KEEPER_DELETED_IMAGE_RETENTION',
  drainSeconds: 'KEEPER_DRAIN_SECONDS',
  maxDownloads: 'KEEPER_MAX_DOWNLOADS',
  maxDownloadsPerUser: 'KEEPER_MAX_DOWNLOADS_PER_USER',
  maxDataRequests: 'KEEPER_MAX_DATA_REQUESTS',
  metricsListen: '--metrics-listen / KEEPER_METRICS_LISTEN',
  logLevel: '--log-level / KEEPER_LOG_LEVEL',
};

/** The server's settings from flags (camelCase keys) over KEEPER_* environment variables. */
export function loadServerConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): ServerConfig {
  const values = {
    dataDir: pick(flags, env, 'dataDir', 'KEEPER_DATA_DIR'),
    databaseUrl: pick(flags, env, 'databaseUrl', 'KEEPER_DATABASE_URL'),
    eventStoreUrl: pick(flags, env, 'eventStoreUrl', 'KEEPER_EVENTSTORE_URL'),
    listen: pick(flags, env, 'listen', 'KEEPER_LISTEN'),
    healthListen: pick(flags, env, 'healthListen', 'KEEPER_HEALTH_LISTEN'),
    tokenKey: env.KEEPER_TOKEN_KEY || undefined,
    accessTtl: pick(flags, env, 'accessTtl', 'KEEPER_ACCESS_TTL'),
    refreshTtl: pick(flags, env, 'refreshTtl', 'KEEPER_REFRESH_TTL'),
    refreshReuseWindow: env.KEEPER_REFRESH_REUSE_WINDOW || undefined,
    sessionCheckMs: env.KEEPER_SESSION_CHECK_MS || undefined,
    bcryptCost: env.KEEPER_BCRYPT_COST || undefined,
    maxMessageBytes: env.KEEPER_MAX_MESSAGE_BYTES || undefined,
    projector: pick(flags, env, 'projector', 'KEEPER_PROJECTOR'),
    reflection: pick(flags, env, 'reflection', 'KEEPER_REFLECTION'),
    tlsCert: pick(flags, env, 'tlsCert', 'KEEPER_TLS_CERT'),
    tlsKey: pick(flags, env, 'tlsKey', 'KEEPER_TLS_KEY'),
    natsUrl: pick(flags, env, 'natsUrl', 'KEEPER_NATS_URL'),
    imaging: pick(flags, env, 'imaging', 'KEEPER_IMAGING'),
    natsPrefix: env.KEEPER_NATS_PREFIX || undefined,
    imagingAckWait: env.KEEPER_IMAGING_ACK_WAIT || undefined,
    blobDir: pick(flags, env, 'blobDir', 'KEEPER_BLOB_DIR'),
    imageMaxBytes: env.KEEPER_IMAGE_MAX_BYTES || undefined,
    imageMaxPixels: env.KEEPER_IMAGE_MAX_PIXELS || undefined,
    imagingConcurrency: pick(flags, env, 'concurrency', 'KEEPER_IMAGING_CONCURRENCY'),
    blobGcInterval: env.KEEPER_BLOB_GC_INTERVAL || undefined,
    blobGrace: env.KEEPER_BLOB_GRACE || undefined,
    deletedImageRetention: env.KEEPER_DELETED_IMAGE_RETENTION || undefined,
    drainSeconds: env.KEEPER_DRAIN_SECONDS || undefined,
    maxDownloads: env.KEEPER_MAX_DOWNLOADS || undefined,
    maxDownloadsPerUser: env.KEEPER_MAX_DOWNLOADS_PER_USER || undefined,
    maxDataRequests: env.KEEPER_MAX_DATA_REQUESTS || undefined,
    metricsListen: pick(flags, env, 'metricsListen', 'KEEPER_METRICS_LISTEN'),
    logLevel: pick(flags, env, 'logLevel', 'KEEPER_LOG_LEVEL'),
  };
  const config = parseConfig(schema, values, NAMES, new Set(['tokenKey', 'databaseUrl', 'natsUrl', 'eventStoreUrl']));
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new ConfigError('invalid configuration: TLS needs both --tls-cert / KEEPER_TLS_CERT and --tls-key / KEEPER_TLS_KEY');
  }
  if (!config.databaseUrl && config.projector === 'external') {
    throw new ConfigError('invalid configuration: the embedded database (no KEEPER_DATABASE_URL) can only run the projector inline');
  }
  if (!config.natsUrl && config.imaging === 'external') {
    throw new ConfigError('invalid configuration: a separate imaging process (KEEPER_IMAGING=external) takes its jobs from NATS: set --nats-url / KEEPER_NATS_URL');
  }
  return { ...config, blobDir: config.blobDir ?? join(config.dataDir, 'blobs'), ...splitHostPort(config.listen) };
}
