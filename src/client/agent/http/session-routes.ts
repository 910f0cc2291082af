import { z } from 'zod';
import { failureOf, KeeperFailure } from '../../core/failures.js';
import { checkLimit, failedAttempt, goodAttempt, type LimitedKey } from '../../core/attempt-limits.js';
import { callerOf, type AgentApp, type AgentContext } from './context.js';
import { credentialsBody, problemAnswer, sessionAnswer } from './schemas.js';

const problems = { 400: problemAnswer, 401: problemAnswer, 403: problemAnswer, 409: problemAnswer, 429: problemAnswer, 503: problemAnswer };

/** Logging in, registering and logging out through the agent. */
export function sessionRoutes(app: AgentApp, context: AgentContext): void {
  const { users, limits } = context;

  app.post('/v1/sessions', { schema: { summary: 'log in: an agent token for the user', tags: ['sessions'], body: credentialsBody, response: { 201: sessionAnswer, ...problems } } }, async (request, reply) => {
    const { login, password } = request.body;
    const keys: LimitedKey[] = [
      [limits.loginPerName, login.toLowerCase()],
      [limits.loginPerCaller, request.ip],
    ];
    checkLimit(keys);
    try {
      const entered = await users.login(login, password);
      goodAttempt(keys.slice(0, 1));
      return reply.code(201).send({ token: entered.token, userId: entered.user.userId, login: entered.user.login, expiresAt: new Date(entered.expiresAt).toISOString() });
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
    const keys: LimitedKey[] = [[limits.registerPerCaller, request.ip]];
    checkLimit(keys);
    failedAttempt(keys);
    const { login, password } = request.body;
    const entered = await users.register(login, password);
    return reply.code(201).send({ token: entered.token, userId: entered.user.userId, login: entered.user.login, expiresAt: new Date(entered.expiresAt).toISOString() });
  });

  app.delete('/v1/sessions/current', { schema: { summary: "log out this caller (the server session ends with the user's last caller)", tags: ['sessions'], response: { 204: z.null(), 401: problemAnswer } } }, async (request, reply) => {
    await users.logout(callerOf(context, request));
    return reply.code(204).send(null);
  });
}
