import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import { TooBusy } from './outgoing-scheduler.js';
import type { OutgoingScheduler } from './outgoing-scheduler.js';

/**
 * The calls whose answers a user waits on. Watch is left out: it stays open for as long as the
 * client runs, and would hold images back for good; its messages still go in the data lane.
 */
function isDataRequest(path: string): boolean {
  if (path.startsWith('/keeper.v1.AuthService/')) return true;
  if (path.startsWith('/keeper.v1.VaultService/')) return path !== '/keeper.v1.VaultService/Watch';
  return path === '/keeper.v1.ImageService/ListImages' || path === '/keeper.v1.ImageService/DeleteImage';
}

/**
 * Tells the scheduler a data request is being answered, from the moment its headers arrive
 * (before its token is even checked) until its status is sent or it is cancelled: image chunks
 * pause meanwhile.
 */
export function dataFirstInterceptor(scheduler: OutgoingScheduler): ServerInterceptor {
  return (method, call) => {
    if (!isDataRequest(method.path)) return new ServerInterceptingCall(call);
    let end: (() => void) | undefined;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        try {
          end = scheduler.beginData();
        } catch (error) {
          if (!(error instanceof TooBusy)) throw error;
          const trailer = new Metadata();
          trailer.set('retry-after-ms', String(error.retryAfterMs));
          call.sendStatus({ code: status.RESOURCE_EXHAUSTED, details: error.message, metadata: trailer });
          return;
        }
        next(metadata);
      })
      .withOnCancel(() => end?.())
      .build();
    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        end?.();
        next(status);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
