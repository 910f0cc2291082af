import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AttemptLimiter } from '../../../lib/attempt-limiter.js';
import { KeeperFailure } from '../../core/failures.js';
import type { HeldUsers, Caller } from '../../users/held-users.js';
import { cookieToken, type SessionCookie } from './session-cookie.js';

export type AgentApp = FastifyInstance<import('node:http').Server, import('node:http').IncomingMessage, import('node:http').ServerResponse, import('fastify').FastifyBaseLogger, ZodTypeProvider>;

/** What every route needs: the users and the limits on guessing. */
export interface AgentContext {
  users: HeldUsers;
  server: string;
  limits: AgentLimits;
  /** The web page's session cookie (set by the app: its name depends on TLS). */
  cookie?: SessionCookie;
  /** An unlocked vault unused this long locks itself (the page locks its screen on the same clock). */
  idleLockMs?: number;
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

/**
 * The caller a request's bearer token (or, from the web page, its session cookie) stands for; a
 * missing, unknown or ended token is a 401. The cookie counts only on a request the guards saw
 * come from the agent's own page: a browser attaches it whoever made the request.
 */
export function callerOf(context: AgentContext, request: FastifyRequest): Caller {
  const header = request.headers.authorization;
  const fromCookie = header === undefined && context.cookie ? cookieToken(request, context.cookie) : undefined;
  if (fromCookie !== undefined && !request.fromOwnPage) {
    throw new KeeperFailure('refused', "the session cookie is only taken from the agent's own page; a change must carry the page's Origin");
  }
  const match = fromCookie === undefined ? BEARER.exec(header ?? '') : null;
  const token = fromCookie ?? match?.[1];
  if (token === undefined) throw new KeeperFailure('not-logged-in', 'this call needs an agent token: log in with POST /v1/sessions and send it as "Authorization: Bearer <token>"');
  const caller = context.users.caller(token);
  if (!caller) throw new KeeperFailure('session-ended', 'the agent token is unknown or has ended; log in again', { why: 'the token is unknown or ended' });
  return caller;
}
