import type { Logger } from 'pino';
import type { AuthServiceServer } from '../../gen/keeper/v1/auth.js';
import type { AuthService } from '../auth/service.js';
import { unary } from './unary.js';

export function authHandlers(auth: AuthService, logger: Logger): AuthServiceServer {
  return {
    register: unary(logger, async (call) => ({ session: await auth.register(call.request, call.getPeer()) })),
    login: unary(logger, async (call) => ({ session: await auth.login(call.request, call.getPeer()) })),
    refresh: unary(logger, async (call) => ({ session: await auth.refresh(call.request) })),
    logout: unary(logger, async (call) => {
      await auth.logout(call.request);
      return {};
    }),
  };
}
