import type { ResizeJob } from './queue/job.js';

/** A stored rendition as ImageRenditionsReady records it. */
export interface RenditionRecord {
  /** Blob address: sha256 of the bytes, lowercase hex. */
  address: string;
  type: string;
  width: number;
  height: number;
  /** Bytes. */
  size: number;
}

export interface Renditions {
  cover: RenditionRecord;
  compact: RenditionRecord;
}

/**
 * What the imaging worker needs from the rest of the server. Each may be called more than once
 * for the same job (deliveries are at least once), so each must be idempotent. Throwing
 * PermanentJobError (from queue/port.ts) ends the job at once and its message becomes the
 * reason shown to the user; any other error retries the job.
 */
export interface ImagingPorts {
  /** The original's bytes from the blob store. */
  readOriginal(job: ResizeJob): Promise<Buffer>;
  /** Stores bytes in the blob store and returns their address. */
  storeRendition(bytes: Buffer, type: string): Promise<string>;
  /** Records that the renditions exist (appends ImageRenditionsReady). */
  renditionsReady(job: ResizeJob, renditions: Renditions): Promise<void>;
  /** Records that the image will get no renditions; `reason` is a sentence for the user. */
  renditionsFailed(job: ResizeJob, reason: string): Promise<void>;
}
