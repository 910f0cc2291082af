import { isServiceError, status } from './grpc-channel.js';

/** How many times one download continues after a cut before the failure is the caller's. */
const MAX_RESUMES = 6;

/** The server's rendition is not the one the first part came from: the bytes cannot be joined. */
export class DownloadChanged extends Error {
  constructor() {
    super('the image changed on the server while it was downloading; download it again');
    this.name = 'DownloadChanged';
  }
}

/**
 * How long to wait before continuing a cut download, or undefined when the failure is not a cut:
 * the connection went or the replica stopped (UNAVAILABLE, or a stream reset under it), or the
 * server asked to come back later (RESOURCE_EXHAUSTED with "retry-after-ms").
 */
export function resumeDelayMs(error: unknown, resumed: number): number | undefined {
  if (resumed >= MAX_RESUMES || !isServiceError(error)) return undefined;
  const asked = Number(error.metadata?.get('retry-after-ms')[0] ?? 0) || 0;
  const backoff = Math.min(2_000, 100 * 2 ** resumed) * (0.75 + Math.random() * 0.5);
  if (error.code === status.UNAVAILABLE) return Math.max(asked, backoff);
  if (error.code === status.RESOURCE_EXHAUSTED && asked > 0) return Math.max(asked, backoff);
  if (error.code === status.INTERNAL && /RST_STREAM/.test(error.details)) return backoff;
  return undefined;
}
