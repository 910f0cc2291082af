import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import { AuthError } from '../auth/errors.js';
import { NotAuthenticated, unavailableForAMoment } from './errors.js';

/** Metadata keys the interceptor sets after verifying the token; anything a client sends under them is dropped. */
export const VERIFIED_USER_KEY = 'x-keeper-verified-user';
export const VERIFIED_SESSION_KEY = 'x-keeper-verified-session';

/** The calls that need no access token: the ones that get one, or end a session by its refresh token. */
const PUBLIC_METHODS = new Set(['Register', 'Login', 'Refresh', 'Logout'].map((name) => `/keeper.v1.AuthService/${name}`));
/** Standard services that health checkers and tools call without a user: health and reflection. */
const PUBLIC_SERVICES = ['/grpc.health.v1.Health/', '/grpc.reflection.v1.ServerReflection/', '/grpc.reflection.v1alpha.ServerReflection/'];

export interface AccessVerifier {
  verifyAccessToken(token: string): Promise<{ userId: string; login: string; sessionId: string }>;
}

/**
 * Checks "authorization: Bearer <token>" on every call but the public ones (deny by default) and
 * hands the verified user and session to the handler through metadata. A fault while checking
 * (e.g. the database is unreachable) is UNAVAILABLE, never UNAUTHENTICATED: that would make the
 * client drop a session that is fine.
 */
export function authInterceptor(
  verifier: AccessVerifier,
  onRejected: (reason: string) => void = () => {},
  onFault: (error: unknown) => void = () => {},
): ServerInterceptor {
  return (method, call) => {
    const isPublic = PUBLIC_METHODS.has(method.path) || PUBLIC_SERVICES.some((prefix) => method.path.startsWith(prefix));
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        metadata.remove(VERIFIED_USER_KEY);
        metadata.remove(VERIFIED_SESSION_KEY);
        if (isPublic) return next(metadata);
        const token = bearerToken(metadata);
        if (!token) {
          call.sendStatus({ code: status.UNAUTHENTICATED, details: 'missing access token: log in first' });
          return;
        }
        verifier.verifyAccessToken(token).then(
          (user) => {
            metadata.set(VERIFIED_USER_KEY, user.userId);
            metadata.set(VERIFIED_SESSION_KEY, user.sessionId);
            next(metadata);
          },
          (error: unknown) => {
            if (!(error instanceof AuthError)) {
              onFault(error);
              call.sendStatus(unavailableForAMoment('the server cannot check sessions right now; retrying is safe'));
              return;
            }
            onRejected(error.message);
            call.sendStatus({ code: status.UNAUTHENTICATED, details: error.message });
          },
        );
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}

/** The access token of "authorization: Bearer <token>", or '' without one. */
export function bearerToken(metadata: { get(key: string): unknown[] }): string {
  const header = metadata.get('authorization')[0];
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

/** The user and session the interceptor verified. */
export function verifiedCaller(call: { metadata: { get(key: string): unknown[] } }): { userId: string; sessionId: string } {
  const sessionId = call.metadata.get(VERIFIED_SESSION_KEY)[0];
  if (typeof sessionId !== 'string' || !sessionId) throw new NotAuthenticated();
  return { userId: verifiedUser(call), sessionId };
}

/** The user the interceptor verified; a call without one never reaches a handler, but check anyway. */
export function verifiedUser(call: { metadata: { get(key: string): unknown[] } }): string {
  const userId = call.metadata.get(VERIFIED_USER_KEY)[0];
  if (typeof userId !== 'string' || !userId) throw new NotAuthenticated();
  return userId;
}
