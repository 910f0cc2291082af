import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { booleanFlag, logLevel, parseConfig, pick, serverTarget } from './env.js';

const schema = z.object({
  server: serverTarget.default('127.0.0.1:7070'),
  home: z.string().min(1).default(join(homedir(), '.keeper')),
  tls: booleanFlag,
  tlsCa: z.string().optional(),
  timeoutMs: z.coerce.number({ message: 'must be a number of milliseconds' }).int().positive('must be above zero').default(15000),
  logLevel,
});

export type ClientConfig = z.infer<typeof schema>;

const NAMES: Record<string, string> = {
  server: '--server / KEEPER_SERVER',
  home: '--home / KEEPER_HOME',
  tls: '--tls / KEEPER_TLS',
  tlsCa: '--tls-ca / KEEPER_TLS_CA',
  timeoutMs: '--timeout / KEEPER_TIMEOUT_MS',
  logLevel: '--log-level / KEEPER_LOG_LEVEL',
};

/** Where the client connects and keeps its files, from flags over KEEPER_* environment variables. */
export function loadClientConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): ClientConfig {
  return parseConfig(
    schema,
    {
      server: pick(flags, env, 'server', 'KEEPER_SERVER'),
      home: pick(flags, env, 'home', 'KEEPER_HOME'),
      tls: pick(flags, env, 'tls', 'KEEPER_TLS'),
      tlsCa: pick(flags, env, 'tlsCa', 'KEEPER_TLS_CA'),
      timeoutMs: pick(flags, env, 'timeout', 'KEEPER_TIMEOUT_MS'),
      logLevel: pick(flags, env, 'logLevel', 'KEEPER_LOG_LEVEL'),
    },
    NAMES,
  );
}
