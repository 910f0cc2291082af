import type { Logger } from 'pino';
import type { AuthServiceServer } from '../../gen/keeper/v1/auth.js';
import type { AuthService } from '../auth/service.js';
import { unary } from './unary.js';

/** "ipv4:127.0.0.1:5000" -> "127.0.0.1": throttling counts per address, not per connection. */
export function peerAddress(peer: string): string {
  const withoutScheme = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[(.*)\]:\d+$/.exec(withoutScheme);
  if (bracketed) return bracketed[1]!;
  const lastColon = withoutScheme.lastIndexOf(':');
  return lastColon > 0 && withoutScheme.indexOf(':') === lastColon ? withoutScheme.slice(0, lastColon) : withoutScheme;
}

export function authHandlers(auth: AuthService, logger: Logger): AuthServiceServer {
  return {
    register: unary(logger, async (call) => ({ session: await auth.register(call.request, peerAddress(call.getPeer())) })),
    login: unary(logger, async (call) => ({ session: await auth.login(call.request, peerAddress(call.getPeer())) })),
    refresh: unary(logger, async (call) => ({ session: await auth.refresh(call.request) })),
    logout: unary(logger, async (call) => {
      await auth.logout(call.request);
      return {};
    }),
  };
}
