import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { WatchResponse } from '../gen/keeper/v1/vault.js';
import { isServiceError, status } from './grpc-channel.js';

export interface VaultVersion {
  version: number;
  /** Unix ms of the last change; 0 for an empty vault. */
  lastModifiedAt: number;
}

export interface VersionWatch {
  /** Stops watching (no call to onVersion or onError follows). */
  close(): void;
}

export interface WatchOptions {
  /** The version the caller has (default 0); the current version is told at once whatever it is. */
  sinceVersion?: number;
  /** Told once when the watch gives up for good (the session ended, a server without Watch); nothing follows. */
  onError?: (error: unknown) => void;
  /** Told when the stream was lost and is opened again after `delayMs` (a face may say it is offline). */
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** Opens one Watch call: with a current access token, or with `renewed` after the last one was refused. */
export type WatchOpener = (sinceVersion: number, renewed: boolean) => Promise<ClientReadableStream<WatchResponse>>;

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
/** Codes no reopening mends (UNAUTHENTICATED is mended once, by a refresh). */
const FINAL_CODES = new Set([status.UNIMPLEMENTED, status.INVALID_ARGUMENT, status.PERMISSION_DENIED, status.UNAUTHENTICATED]);

/**
 * The wait before opening again after `failures` in a row: 250 ms doubling up to 10 s, jittered
 * down to half (clients cut off together do not come back together), at least what the server
 * asked (`retry-after-ms`) but never more than 10 s.
 */
export function reopenDelay(failures: number, askedMs = 0, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(failures - 1, 20));
  return Math.min(MAX_DELAY_MS, Math.max(askedMs, ceiling * (0.5 + random() * 0.5)));
}

/**
 * Keeps a Watch call open: each time it opens, the server's first message says the version as it
 * is (so nothing missed while it was closed goes unnoticed); when it ends (a server restarting or
 * stopping, a lost connection) it is opened again after reopenDelay; refused UNAUTHENTICATED (the
 * access token expired on the way), it is opened once more at once, with a renewed token.
 */
export function keepWatching(open: WatchOpener, onVersion: (version: VaultVersion) => void, options: WatchOptions = {}): VersionWatch {
  let closed = false;
  let current: ClientReadableStream<WatchResponse> | undefined;
  let wake: (() => void) | undefined;
  let since = options.sinceVersion ?? 0;

  const giveUp = (error: unknown) => {
    if (closed) return;
    closed = true;
    options.onError?.(error);
  };

  /** Runs one call to its end; answers whether a message came, and how it ended (undefined: OK). */
  const follow = (stream: ClientReadableStream<WatchResponse>) =>
    new Promise<{ heard: boolean; error: ServiceError | undefined }>((resolve) => {
      let heard = false;
      stream.on('data', (message: WatchResponse) => {
        if (closed) return;
        heard = true;
        since = Math.max(since, message.version);
        try {
          onVersion({ version: message.version, lastModifiedAt: message.lastModifiedAt });
        } catch (error) {
          stream.cancel();
          giveUp(error);
        }
      });
      stream.on('error', (error: ServiceError) => resolve({ heard, error }));
      stream.on('end', () => resolve({ heard, error: undefined }));
    });

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const run = async () => {
    let failures = 0;
    let renew = false;
    /** A refresh since the last message: a second UNAUTHENTICATED in a row means the session is over. */
    let renewed = false;
    while (!closed) {
      let failure: unknown;
      try {
        const stream = await open(since, renew);
        if (closed) {
          stream.cancel();
          return;
        }
        current = stream;
        const outcome = await follow(stream);
        current = undefined;
        if (closed) return;
        if (outcome.heard) {
          failures = 0;
          renewed = false;
        }
        renew = false;
        failure = outcome.error;
      } catch (error) {
        // Opening failed: the refresh said the session ended (NotLoggedIn), or could not reach the server.
        if (!isServiceError(error)) return giveUp(error);
        failure = error;
      }
      if (isServiceError(failure) && failure.code === status.UNAUTHENTICATED && !renewed) {
        renew = true;
        renewed = true;
        continue;
      }
      if (isServiceError(failure) && FINAL_CODES.has(failure.code)) return giveUp(failure);
      failures += 1;
      const asked = isServiceError(failure) ? Number(failure.metadata?.get('retry-after-ms')[0] ?? 0) || 0 : 0;
      const delay = reopenDelay(failures, asked);
      options.onRetry?.(failure, delay);
      await pause(delay);
    }
  };
  void run().catch(giveUp);

  return {
    close() {
      closed = true;
      current?.cancel();
      wake?.();
    },
  };
}
