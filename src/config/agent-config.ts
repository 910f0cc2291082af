import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { booleanFlag, commaList, ConfigError, hostPort, logLevel, parseConfig, pick, splitHostPort, serverTarget } from './env.js';

const minutes = (fallback: number) => z.coerce.number({ message: 'must be a number of minutes' }).positive('must be above zero').default(fallback);

const schema = z.object({
  listen: hostPort.default('127.0.0.1:7071'),
  server: serverTarget.default('127.0.0.1:7070'),
  home: z.string().min(1).default(join(homedir(), '.keeper')),
  tls: booleanFlag,
  tlsCa: z.string().optional(),
  /** The agent's own certificate and key, required when it listens beyond loopback. */
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  timeoutMs: z.coerce.number({ message: 'must be a number of milliseconds' }).int().positive('must be above zero').default(15000),
  /** Host header values accepted besides the loopback names and the listen address itself. */
  allowedHosts: commaList,
  /** Origins that may call the API from a browser (CORS); none by default. */
  allowedOrigins: commaList,
  idleLockMinutes: minutes(15),
  tokenIdleMinutes: minutes(60),
  tokenAbsoluteHours: z.coerce.number({ message: 'must be a number of hours' }).positive('must be above zero').default(24),
  /** Replicas held in memory at most; the least recently used idle one goes back to its cache beyond. */
  maxUsers: z.coerce.number({ message: 'must be a whole number' }).int().positive('must be above zero').default(2000),
  logLevel,
});

export type AgentConfig = z.infer<typeof schema> & { host: string; port: number; loopback: boolean };

const NAMES: Record<string, string> = {
  listen: '--listen / KEEPER_AGENT_LISTEN',
  server: '--server / KEEPER_SERVER',
  home: '--home / KEEPER_HOME',
  tls: '--tls / KEEPER_TLS',
  tlsCa: '--tls-ca / KEEPER_TLS_CA',
  tlsCert: '--agent-tls-cert / KEEPER_AGENT_TLS_CERT',
  tlsKey: '--agent-tls-key / KEEPER_AGENT_TLS_KEY',
  timeoutMs: '--timeout / KEEPER_TIMEOUT_MS',
  allowedHosts: '--allowed-hosts / KEEPER_AGENT_ALLOWED_HOSTS',
  allowedOrigins: '--allowed-origins / KEEPER_AGENT_ALLOWED_ORIGINS',
  idleLockMinutes: '--idle-lock-minutes / KEEPER_AGENT_IDLE_LOCK_MINUTES',
  tokenIdleMinutes: '--token-idle-minutes / KEEPER_AGENT_TOKEN_IDLE_MINUTES',
  tokenAbsoluteHours: '--token-hours / KEEPER_AGENT_TOKEN_HOURS',
  maxUsers: '--max-users / KEEPER_AGENT_MAX_USERS',
  logLevel: '--log-level / KEEPER_LOG_LEVEL',
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The agent's settings, from flags over KEEPER_* environment variables. */
export function loadAgentConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): AgentConfig {
  const config = parseConfig(
    schema,
    {
      listen: pick(flags, env, 'listen', 'KEEPER_AGENT_LISTEN'),
      server: pick(flags, env, 'server', 'KEEPER_SERVER'),
      home: pick(flags, env, 'home', 'KEEPER_HOME'),
      tls: pick(flags, env, 'tls', 'KEEPER_TLS'),
      tlsCa: pick(flags, env, 'tlsCa', 'KEEPER_TLS_CA'),
      tlsCert: pick(flags, env, 'agentTlsCert', 'KEEPER_AGENT_TLS_CERT'),
      tlsKey: pick(flags, env, 'agentTlsKey', 'KEEPER_AGENT_TLS_KEY'),
      timeoutMs: pick(flags, env, 'timeout', 'KEEPER_TIMEOUT_MS'),
      allowedHosts: pick(flags, env, 'allowedHosts', 'KEEPER_AGENT_ALLOWED_HOSTS'),
      allowedOrigins: pick(flags, env, 'allowedOrigins', 'KEEPER_AGENT_ALLOWED_ORIGINS'),
      idleLockMinutes: pick(flags, env, 'idleLockMinutes', 'KEEPER_AGENT_IDLE_LOCK_MINUTES'),
      tokenIdleMinutes: pick(flags, env, 'tokenIdleMinutes', 'KEEPER_AGENT_TOKEN_IDLE_MINUTES'),
      tokenAbsoluteHours: pick(flags, env, 'tokenHours', 'KEEPER_AGENT_TOKEN_HOURS'),
      maxUsers: pick(flags, env, 'maxUsers', 'KEEPER_AGENT_MAX_USERS'),
      logLevel: pick(flags, env, 'logLevel', 'KEEPER_LOG_LEVEL'),
    },
    NAMES,
  );
  const { host, port } = splitHostPort(config.listen);
  const loopback = LOOPBACK.has(host) || host.startsWith('127.');
  // A service holding decrypted secrets speaks in the clear only where nobody else can listen.
  if (!loopback && !(config.tlsCert && config.tlsKey)) {
    throw new ConfigError(`invalid configuration: ${NAMES.listen} ${config.listen} is not a loopback address, so ${NAMES.tlsCert} and ${NAMES.tlsKey} are required`);
  }
  return { ...config, host, port, loopback };
}
