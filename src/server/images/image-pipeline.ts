import type { Logger } from 'pino';
import { decideRenditions, type RenditionInfo } from '../../domain/images.js';
import { derivedId } from '../../lib/derived-id.js';
import { inspectImageFile, sniffImageType } from '../../imaging/renditions.js';
import { MemoryJobQueue } from '../../imaging/queue/memory-queue.js';
import { NatsJobQueue } from '../../imaging/queue/nats-queue.js';
import { natsNames } from '../../imaging/queue/nats-topology.js';
import { JobQueueUnavailable, type JobQueue } from '../../imaging/queue/port.js';
import { errorMessage } from '../../imaging/queue/delivery.js';
import { OutageLog } from '../../lib/outage-log.js';
import type { ImagingPorts } from '../../imaging/ports.js';
import { startImagingWorker } from '../../imaging/worker.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { EventStore } from '../eventstore/port.js';
import type { Database } from '../sql/database.js';
import type { VaultService } from '../vault/vault-service.js';
import type { ImageInspector } from './image-service.js';
import { JobRelay } from './job-relay.js';

export interface QueueChoice {
  natsUrl?: string | undefined;
  /** Stream, subject and consumer names under this prefix (deployments sharing one NATS). */
  natsPrefix?: string | undefined;
  /** How long a job may go unacknowledged before another worker gets it. */
  ackWaitMs?: number | undefined;
}

/** NATS JetStream when a URL is configured, otherwise the in-process queue (embedded `keeper up`). */
export function openJobQueue(choice: QueueChoice, logger: Logger): JobQueue {
  const settings = choice.ackWaitMs !== undefined ? { ackWaitMs: choice.ackWaitMs } : {};
  if (!choice.natsUrl) return new MemoryJobQueue({ logger, settings });
  return new NatsJobQueue({ url: choice.natsUrl, logger, settings, ...(choice.natsPrefix ? { names: natsNames(choice.natsPrefix) } : {}) });
}

/** The upload checks on sharp: signature sniffing, then the header for type, size and pixel count. */
export function sharpInspector(maxPixels: number): ImageInspector {
  return {
    sniff: sniffImageType,
    async inspect(path) {
      const info = await inspectImageFile(path, { maxPixels });
      return { type: info.type, width: info.width, height: info.height };
    },
  };
}

/**
 * What the worker needs from the server side: the original's bytes from the blob store, and the
 * outcome recorded in the user's stream under an id derived from the image, so a job delivered
 * twice records its renditions once.
 */
export function imagingPorts(vault: VaultService, blobs: BlobStore): ImagingPorts {
  const clientId = 'keeper-imaging';
  return {
    readOriginal: (job) => blobs.read(job.original),
    storeRendition: (bytes) => blobs.put(bytes),
    async renditionsReady(job, renditions) {
      const outcome = { cover: renditions.cover as RenditionInfo, compact: renditions.compact as RenditionInfo };
      await vault.record(job.userId, derivedId(`image-renditions:${job.userId}:${job.imageId}`), clientId, (state) =>
        decideRenditions(state.images.get(job.imageId), outcome) ?? 'duplicate',
      );
    },
    async renditionsFailed(job, reason) {
      await vault.record(job.userId, derivedId(`image-failed:${job.userId}:${job.imageId}`), clientId, (state) =>
        decideRenditions(state.images.get(job.imageId), { failure: reason }) ?? 'duplicate',
      );
    },
  };
}

export interface PipelineOptions {
  queue: JobQueue;
  /** Publish the jobs of new uploads from the log (where the projector runs). */
  relay: boolean;
  /** Make renditions in this process. */
  worker: boolean;
  concurrency: number;
  maxPixels: number;
}

export interface RunningPipeline {
  relay: JobRelay | undefined;
  stop(): Promise<void>;
}

/** Starts the relay and/or the worker over one queue; stop() stops them and closes the queue. */
export function startImagePipeline(db: Database, store: EventStore, vault: VaultService, blobs: BlobStore, options: PipelineOptions, logger: Logger): RunningPipeline {
  // Retried every 250 ms while it fails: an outage is a few lines, not four a second. A queue that
  // is unavailable says so itself (once for all its callers); the relay's own log is for the rest.
  const relayOutage = new OutageLog(logger, 'queueing image jobs');
  const relay = options.relay
    ? new JobRelay(db, store, options.queue, {
        onError: (err) => (err instanceof JobQueueUnavailable ? logger.debug({ reason: errorMessage(err) }, 'image jobs wait for the queue') : relayOutage.failed(err)),
        onSuccess: () => relayOutage.succeeded(),
      })
    : undefined;
  relay?.start();
  const worker = options.worker
    ? startImagingWorker(options.queue, imagingPorts(vault, blobs), { concurrency: options.concurrency, maxPixels: options.maxPixels, logger })
    : undefined;
  return {
    relay,
    async stop() {
      await relay?.stop();
      await worker?.stop();
      await options.queue.close();
    },
  };
}
