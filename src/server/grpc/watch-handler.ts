import type { Logger } from 'pino';
import { z } from 'zod';
import type { WatchRequest, WatchResponse } from '../../gen/keeper/v1/vault.js';
import type { VersionWatches } from '../watch/version-watches.js';
import { bearerToken, verifiedUser, type AccessVerifier } from './auth-interceptor.js';
import { serverStream } from './server-stream.js';
import type { OutgoingScheduler } from './outgoing-scheduler.js';

const watchSchema = z.object({ sinceVersion: z.number().int().nonnegative() });

/**
 * Watch: the caller's own version, now and as it moves, for as long as the call stays open. The
 * call outlives the check made when it opened, so the token is checked again before each message:
 * once its session ends (logout, revoke) or it expires, the call ends UNAUTHENTICATED instead of
 * telling a caller that may no longer know when this vault changes.
 */
export function watchHandler(watches: VersionWatches, access: AccessVerifier, logger: Logger, out: OutgoingScheduler) {
  return serverStream<WatchRequest, WatchResponse>(logger, out, async (call, send) => {
    const userId = verifiedUser(call);
    const token = bearerToken(call.metadata);
    const { sinceVersion } = watchSchema.parse(call.request);
    const stop = new AbortController();
    call.on('cancelled', () => stop.abort());
    if (call.cancelled) return;
    await watches.follow(
      userId,
      sinceVersion,
      async (info) => {
        await access.verifyAccessToken(token);
        await send({ version: info.version, lastModifiedAt: info.lastModifiedAt });
      },
      stop.signal,
    );
  });
}
