import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuthServiceServer } from '../../gen/keeper/v1/auth.js';
import type { AuthService, RevokeTarget } from '../auth/service.js';
import { verifiedCaller } from './auth-interceptor.js';
import { unary } from './unary.js';

const revokeSchema = z.union([
  z.object({ $case: z.literal('sessionId'), value: z.uuid({ error: 'must be a session id from ListSessions' }) }),
  z.object({ $case: z.literal('allOthers'), value: z.literal(true, { error: 'must be true when given' }) }),
], { error: 'give a session_id, or all_others' });

export function authHandlers(auth: AuthService, logger: Logger): AuthServiceServer {
  return {
    register: unary(logger, async (call) => ({ session: await auth.register(call.request, call.getPeer()) })),
    login: unary(logger, async (call) => ({ session: await auth.login(call.request, call.getPeer()) })),
    refresh: unary(logger, async (call) => ({ session: await auth.refresh(call.request) })),
    logout: unary(logger, async (call) => {
      await auth.logout(call.request);
      return {};
    }),
    listSessions: unary(logger, async (call) => ({ sessions: await auth.listSessions(verifiedCaller(call)) })),
    revokeSessions: unary(logger, async (call) => {
      const caller = verifiedCaller(call);
      const target = revokeSchema.parse(call.request.target);
      const what: RevokeTarget = target.$case === 'sessionId' ? { sessionId: target.value } : { allOthers: true };
      return { revoked: await auth.revokeSessions(caller, what) };
    }),
  };
}
