import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { booleanFlag, commaList, ConfigError, hostPort, logLevel, parseConfig, pick, splitHostPort, serverTarget } from './env.js';

const positive = (unit: string, fallback: number) => z.coerce.number({ message: `must be a number of ${unit}` }).positive('must be above zero').default(fallback);

const schema = z.object({
  /** BotFather's token: read from the environment only (a flag would show in the process list), never logged. */
  token: z
    .string({ message: 'is required: the token BotFather gave the bot' })
    .regex(/^\d{1,20}:[A-Za-z0-9_-]{20,200}$/, 'must be the token BotFather gave (digits, a colon, then letters, digits, _ and -)'),
  /** Telegram user ids allowed to use the bot; empty: anyone. */
  allow: commaList.pipe(z.array(z.string().regex(/^\d{1,20}$/, 'must list Telegram user ids (whole numbers), comma-separated'))),
  /** The Bot API's address: Telegram's, or a local Bot API server (and the tests' stand-in). */
  apiRoot: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .default('https://api.telegram.org')
    .transform((url) => url.replace(/\/+$/, '')),
  server: serverTarget.default('127.0.0.1:7070'),
  home: z.string().min(1).default(join(homedir(), '.keeper')),
  tls: booleanFlag,
  tlsCa: z.string().optional(),
  timeoutMs: z.coerce.number({ message: 'must be a number of milliseconds' }).int().positive('must be above zero').default(15000),
  /** Telegram delivers updates to this public https address instead of being polled. */
  webhookUrl: z.url({ protocol: /^https$/, message: 'must be an https URL (Telegram only calls https webhooks)' }).optional(),
  webhookListen: hostPort.default('127.0.0.1:8443'),
  /** GET /healthz for a container's health check; off when not given. */
  healthListen: hostPort.optional(),
  /** Telegram sends it back in a header with every update, so a stranger cannot post updates; made at start when not given. */
  webhookSecret: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16 to 256 letters, digits, _ or -').optional(),
  idleLockMinutes: positive('minutes', 15),
  /** A chat's link unused this long ends (and its server session with it). */
  linkDays: positive('days', 30),
  /** A revealed value's message deletes itself after this long. */
  revealSeconds: positive('seconds', 30),
  /** Messages and button presses a chat may send per minute before the bot stops answering it for a while. */
  ratePerMinute: z.coerce.number({ message: 'must be a whole number' }).int().positive('must be above zero').default(60),
  maxUsers: z.coerce.number({ message: 'must be a whole number' }).int().positive('must be above zero').default(2000),
  /** Where the key that seals the links file lives (a secret mount, say); beside the links when not given. */
  linksKeyFile: z.string().min(1).optional(),
  logLevel,
});

export type BotConfig = z.infer<typeof schema> & { dataDir: string; webhookHost: string; webhookPort: number };

const NAMES: Record<string, string> = {
  token: 'KEEPER_TELEGRAM_TOKEN',
  allow: '--allow / KEEPER_TELEGRAM_ALLOW',
  apiRoot: '--api-root / KEEPER_TELEGRAM_API_ROOT',
  server: '--server / KEEPER_SERVER',
  home: '--home / KEEPER_HOME',
  tls: '--tls / KEEPER_TLS',
  tlsCa: '--tls-ca / KEEPER_TLS_CA',
  timeoutMs: '--timeout / KEEPER_TIMEOUT_MS',
  webhookUrl: '--webhook-url / KEEPER_BOT_WEBHOOK_URL',
  webhookListen: '--webhook-listen / KEEPER_BOT_WEBHOOK_LISTEN',
  healthListen: '--health-listen / KEEPER_HEALTH_LISTEN',
  webhookSecret: 'KEEPER_BOT_WEBHOOK_SECRET',
  idleLockMinutes: '--idle-lock-minutes / KEEPER_BOT_IDLE_LOCK_MINUTES',
  linkDays: '--link-days / KEEPER_BOT_LINK_DAYS',
  revealSeconds: '--reveal-seconds / KEEPER_BOT_REVEAL_SECONDS',
  ratePerMinute: '--rate-per-minute / KEEPER_BOT_RATE_PER_MINUTE',
  maxUsers: '--max-users / KEEPER_BOT_MAX_USERS',
  linksKeyFile: '--links-key-file / KEEPER_BOT_LINKS_KEY_FILE',
  logLevel: '--log-level / KEEPER_LOG_LEVEL',
};

/** Values never repeated in an error message. */
const SECRETS = new Set(['token', 'webhookSecret']);

/** The bot's settings, from flags over KEEPER_* environment variables (the token from the environment only). */
export function loadBotConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): BotConfig {
  const config = parseConfig(
    schema,
    {
      token: pick({}, env, 'token', 'KEEPER_TELEGRAM_TOKEN'),
      allow: pick(flags, env, 'allow', 'KEEPER_TELEGRAM_ALLOW'),
      apiRoot: pick(flags, env, 'apiRoot', 'KEEPER_TELEGRAM_API_ROOT'),
      server: pick(flags, env, 'server', 'KEEPER_SERVER'),
      home: pick(flags, env, 'home', 'KEEPER_HOME'),
      tls: pick(flags, env, 'tls', 'KEEPER_TLS'),
      tlsCa: pick(flags, env, 'tlsCa', 'KEEPER_TLS_CA'),
      timeoutMs: pick(flags, env, 'timeout', 'KEEPER_TIMEOUT_MS'),
      webhookUrl: pick(flags, env, 'webhookUrl', 'KEEPER_BOT_WEBHOOK_URL'),
      webhookListen: pick(flags, env, 'webhookListen', 'KEEPER_BOT_WEBHOOK_LISTEN'),
      healthListen: pick(flags, env, 'healthListen', 'KEEPER_HEALTH_LISTEN'),
      webhookSecret: pick({}, env, 'webhookSecret', 'KEEPER_BOT_WEBHOOK_SECRET'),
      idleLockMinutes: pick(flags, env, 'idleLockMinutes', 'KEEPER_BOT_IDLE_LOCK_MINUTES'),
      linkDays: pick(flags, env, 'linkDays', 'KEEPER_BOT_LINK_DAYS'),
      revealSeconds: pick(flags, env, 'revealSeconds', 'KEEPER_BOT_REVEAL_SECONDS'),
      ratePerMinute: pick(flags, env, 'ratePerMinute', 'KEEPER_BOT_RATE_PER_MINUTE'),
      maxUsers: pick(flags, env, 'maxUsers', 'KEEPER_BOT_MAX_USERS'),
      linksKeyFile: pick(flags, env, 'linksKeyFile', 'KEEPER_BOT_LINKS_KEY_FILE'),
      logLevel: pick(flags, env, 'logLevel', 'KEEPER_LOG_LEVEL'),
    },
    NAMES,
    SECRETS,
  );
  if (config.webhookSecret && !config.webhookUrl) {
    throw new ConfigError(`invalid configuration: ${NAMES.webhookSecret} is set but ${NAMES.webhookUrl} is not; the secret is only for a webhook`);
  }
  const { host, port } = splitHostPort(config.webhookListen);
  return { ...config, dataDir: join(config.home, 'bot'), webhookHost: host, webhookPort: port };
}
