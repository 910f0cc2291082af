import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AttemptLimiter } from '../../../lib/attempt-limiter.js';
import { KeeperFailure } from '../../core/failures.js';
import type { HeldUsers, Caller } from '../../users/held-users.js';

export type AgentApp = FastifyInstance<import('node:http').Server, import('node:http').IncomingMessage, import('node:http').ServerResponse, import('fastify').FastifyBaseLogger, ZodTypeProvider>;

/** What every route needs: the users and the limits on guessing. */
export interface AgentContext {
  users: HeldUsers;
  server: string;
  limits: AgentLimits;
}

/**
 * Limits on guessing. Per caller means per address: on loopback every caller shares one, so those
 * limits are looser than the ones per login or per user, which stop a guesser aiming at one account.
 */
export interface AgentLimits {
  loginPerName: AttemptLimiter;
  loginPerCaller: AttemptLimiter;
  /** Every registration counts, not only failed ones. */
  registerPerCaller: AttemptLimiter;
  unlockPerUser: AttemptLimiter;
  unlockPerCaller: AttemptLimiter;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,200})$/;

/** The caller a request's bearer token stands for; a missing, unknown or ended token is a 401. */
export function callerOf(context: AgentContext, request: FastifyRequest): Caller {
  const match = BEARER.exec(request.headers.authorization ?? '');
  if (!match) throw new KeeperFailure('not-logged-in', 'this call needs an agent token: log in with POST /v1/sessions and send it as "Authorization: Bearer <token>"');
  const caller = context.users.caller(match[1]!);
  if (!caller) throw new KeeperFailure('session-ended', 'the agent token is unknown or has ended; log in again', { why: 'the token is unknown or ended' });
  return caller;
}
