import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import { NotAuthenticated } from './errors.js';

/** Metadata key the interceptor sets after verifying the token; anything a client sends under it is dropped. */
export const VERIFIED_USER_KEY = 'x-keeper-verified-user';

const PUBLIC_PREFIX = '/keeper.v1.AuthService/';

export interface AccessVerifier {
  verifyAccessToken(token: string): Promise<{ userId: string; login: string }>;
}

/**
 * Checks "authorization: Bearer <token>" on every call outside the Auth service (deny by
 * default) and hands the verified user id to the handler through metadata.
 */
export function authInterceptor(verifier: AccessVerifier, onRejected: (reason: string) => void = () => {}): ServerInterceptor {
  return (method, call) => {
    const isPublic = method.path.startsWith(PUBLIC_PREFIX);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        metadata.remove(VERIFIED_USER_KEY);
        if (isPublic) return next(metadata);
        const header = metadata.get('authorization')[0];
        const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
        if (!token) {
          call.sendStatus({ code: status.UNAUTHENTICATED, details: 'missing access token: log in first' });
          return;
        }
        verifier.verifyAccessToken(token).then(
          (user) => {
            metadata.set(VERIFIED_USER_KEY, user.userId);
            next(metadata);
          },
          (error: unknown) => {
            const details = error instanceof Error ? error.message : 'invalid access token';
            onRejected(details);
            call.sendStatus({ code: status.UNAUTHENTICATED, details });
          },
        );
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}

/** The user the interceptor verified; a call without one never reaches a handler, but check anyway. */
export function verifiedUser(call: { metadata: { get(key: string): unknown[] } }): string {
  const userId = call.metadata.get(VERIFIED_USER_KEY)[0];
  if (typeof userId !== 'string' || !userId) throw new NotAuthenticated();
  return userId;
}
