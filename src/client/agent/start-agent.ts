import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import type { AgentConfig } from '../../config/agent-config.js';
import { readSettingFile } from '../../config/env.js';
import { AttemptLimiter } from '../../lib/attempt-limiter.js';
import { Spool } from '../core/spool.js';
import { HeldUsers } from '../users/held-users.js';
import { buildAgentApp } from './http/app.js';
import { prepareListing } from './http/views.js';
import type { AgentApp, AgentLimits } from './http/context.js';

export interface RunningAgent {
  /** host:port it listens on (the port chosen when 0 was asked). */
  address: string;
  app: AgentApp;
  /** Every route served (for the OpenAPI check). */
  routes: ReadonlyArray<{ method: string; url: string }>;
  users: HeldUsers;
  stop(): Promise<void>;
}

const MINUTE = 60_000;

/**
 * V8 learns per allocation site whether its objects live long, and once they seem to, allocates
 * them straight in the old generation. The agent's start teaches it wrong: while a thousand
 * replicas open and logins queue for seconds, the HTTP server's request objects (and the record
 * views of the few reads meanwhile) outlive collections, and from then on every request's objects
 * were made old: garbage there, holding young objects alive through each scavenge. Under the agent
 * bench (1,000 users) a scavenge promoted 1.6 MB instead of 0.13 MB, the collector paused about
 * twice as long in all, and RSS grew by 400 MB during the load. The heap is shaped by the users
 * held (built once, long-lived either way), so the agent does without the guess. (The flag is
 * the process's: a server started beside the agent in one process goes without it too; it only
 * decides where new objects are put, never what a program sees.)
 */
function withoutPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

/** The agent's composition root: users over the configured server, the HTTP API over them, listening. */
export async function startAgent(config: AgentConfig, logger: Logger, overrides: { refreshMs?: number; clientId?: string } = {}): Promise<RunningAgent> {
  withoutPretenuring();
  const users = new HeldUsers({
    channel: { server: config.server, tls: config.tls, tlsCa: config.tlsCa },
    home: join(config.home, 'agent'),
    timeoutMs: config.timeoutMs,
    clientId: overrides.clientId ?? 'keeper-agent',
    tokens: { idleMs: config.tokenIdleMinutes * MINUTE, absoluteMs: config.tokenAbsoluteHours * 60 * MINUTE },
    idleLockMs: config.idleLockMinutes * MINUTE,
    maxOpen: config.maxUsers,
    refreshMs: overrides.refreshMs ?? 2_000,
    prepare: (handle) => prepareListing(handle.vault),
  });
  const perAccount = { free: 5, windowMs: 15 * MINUTE, baseDelayMs: 1_000, maxDelayMs: 5 * MINUTE, maxKeys: 100_000 };
  const perCaller = { free: 50, windowMs: 15 * MINUTE, baseDelayMs: 1_000, maxDelayMs: 5 * MINUTE, maxKeys: 10_000 };
  const limits: AgentLimits = {
    loginPerName: new AttemptLimiter(perAccount),
    loginPerCaller: new AttemptLimiter(perCaller),
    registerPerCaller: new AttemptLimiter({ free: 1_000, windowMs: 60 * MINUTE, baseDelayMs: 1_000, maxDelayMs: 10 * MINUTE, maxKeys: 10_000 }),
    unlockPerUser: new AttemptLimiter(perAccount),
    unlockPerCaller: new AttemptLimiter(perCaller),
  };
  // Pictures pass through the spool in the clear: whatever a crash left there goes first.
  const spool = await Spool.open(join(config.home, 'agent', 'spool'));
  const hosts = new Set<string>();
  const { app, routes } = await buildAgentApp({
    context: { users, server: config.server, limits, idleLockMs: config.idleLockMinutes * MINUTE },
    logger,
    allowedHosts: hosts,
    allowedOrigins: config.allowedOrigins,
    spool,
    https: config.tlsCert && config.tlsKey ? { cert: readSettingFile(config.tlsCert, 'KEEPER_AGENT_TLS_CERT'), key: readSettingFile(config.tlsKey, 'KEEPER_AGENT_TLS_KEY') } : undefined,
  });
  await app.listen({ host: config.host, port: config.port });
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  // Only now is the port known (0 asks for any): until then no Host is accepted.
  for (const host of [`${hostForUrl}:${port}`, ...config.allowedHosts]) hosts.add(host.toLowerCase());
  // Listening on every interface includes loopback, so its names are the agent's too.
  const everywhere = config.host === '0.0.0.0' || config.host === '::';
  if (config.loopback || everywhere) for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) hosts.add(host);
  return {
    address: `${hostForUrl}:${port}`,
    app,
    routes,
    users,
    async stop() {
      // Closing starts first, so a caller arriving meanwhile hears that the agent is stopping (503)
      // rather than that its session ended; the users go next, which ends their event streams,
      // the open requests the close waits for.
      const closing = app.close();
      await users.close();
      await closing;
    },
  };
}
