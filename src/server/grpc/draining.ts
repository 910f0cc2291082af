import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';

/** Health stays reachable while draining: checkers must hear NOT_SERVING, not a refusal. */
const ALWAYS_ANSWERED = '/grpc.health.v1.Health/';

/**
 * Refuses every new call with UNAVAILABLE once `draining()` is true. A client retries such a call
 * on another replica (its retry policy covers UNAVAILABLE before any answer), which it would not
 * do for a call the replica had started and then dropped.
 */
export function drainingInterceptor(draining: () => boolean, onRefused: (method: string) => void = () => {}): ServerInterceptor {
  return (method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (!draining() || method.path.startsWith(ALWAYS_ANSWERED)) return next(metadata);
        onRefused(method.path);
        call.sendStatus({ code: status.UNAVAILABLE, details: 'this server replica is stopping; another one will answer' });
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}
