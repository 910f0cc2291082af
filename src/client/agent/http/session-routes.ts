import { z } from 'zod';
import { failureOf, KeeperFailure } from '../../core/failures.js';
import { checkLimit, failedAttempt, goodAttempt, type LimitedKey } from '../../core/attempt-limits.js';
import { callerOf, type AgentApp, type AgentContext } from './context.js';
import { credentialsBody, problemAnswer, sessionAnswer } from './schemas.js';
import { clearSessionCookie, setSessionCookie } from './session-cookie.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

const problems = { 400: problemAnswer, 401: problemAnswer, 403: problemAnswer, 409: problemAnswer, 429: problemAnswer, 503: problemAnswer };

/** Logging in, registering and logging out through the agent. */
export function sessionRoutes(app: AgentApp, context: AgentContext): void {
  const { users, limits } = context;

  /** The token in the answer, or (asked for by the web page) in its cookie only, out of the page script's reach. */
  const answerSession = (reply: FastifyReply, wantsCookie: boolean | undefined, entered: { token: string; user: { userId: string; login: string }; expiresAt: number }) => {
    const session = { userId: entered.user.userId, login: entered.user.login, expiresAt: new Date(entered.expiresAt).toISOString() };
    if (!wantsCookie) return reply.code(201).send({ token: entered.token, ...session });
    setSessionCookie(reply, context.cookie!, entered.token, entered.expiresAt);
    return reply.code(201).send(session);
  };
  /** Checked before any attempt is made: a cookie is only handed to the agent's own page. */
  const checkCookieWish = (request: FastifyRequest, wantsCookie: boolean | undefined) => {
    if (wantsCookie && (!context.cookie || !request.fromOwnPage)) throw new KeeperFailure('refused', "a session cookie is only set for the agent's own page (the request must carry its Origin)");
  };

  app.post('/v1/sessions', { schema: { summary: 'log in: an agent token for the user', tags: ['sessions'], body: credentialsBody, response: { 201: sessionAnswer, ...problems } } }, async (request, reply) => {
    const { login, password, cookie } = request.body;
    checkCookieWish(request, cookie);
    const keys: LimitedKey[] = [
      [limits.loginPerName, login.toLowerCase()],
      [limits.loginPerCaller, request.ip],
    ];
    checkLimit(keys);
    try {
      const entered = await users.login(login, password);
      goodAttempt(keys.slice(0, 1));
      return answerSession(reply, cookie, entered);
    } catch (error) {
      const failure = failureOf(error);
      if (failure.kind === 'refused') {
        failedAttempt(keys);
        throw new KeeperFailure('not-logged-in', 'the login or the password is wrong', {}, { cause: error });
      }
      throw failure;
    }
  });

  app.post('/v1/users', { schema: { summary: 'register a new user and log in', tags: ['sessions'], body: credentialsBody, response: { 201: sessionAnswer, ...problems } } }, async (request, reply) => {
    const { login, password, cookie } = request.body;
    checkCookieWish(request, cookie);
    const keys: LimitedKey[] = [[limits.registerPerCaller, request.ip]];
    checkLimit(keys);
    failedAttempt(keys);
    const entered = await users.register(login, password);
    return answerSession(reply, cookie, entered);
  });

  app.delete('/v1/sessions/current', { schema: { summary: "log out this caller (the server session ends with the user's last caller)", tags: ['sessions'], response: { 204: z.null(), 401: problemAnswer } } }, async (request, reply) => {
    await users.logout(callerOf(context, request));
    if (context.cookie) clearSessionCookie(reply, context.cookie);
    return reply.code(204).send(null);
  });
}
