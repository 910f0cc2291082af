import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { LIMITS } from '../domain/limits.js';
import { createLogger } from '../logging.js';
import type { ImagingPorts, RenditionRecord } from './ports.js';
import { PermanentJobError, type DeadLetterHandler, type JobConsumer, type JobHandler, type JobQueue } from './queue/port.js';
import { ImageRejected, makeRenditions, type Rendition } from './renditions.js';

export interface ImagingWorkerOptions {
  /** Jobs resized at once; about the number of cores the worker may use. */
  concurrency: number;
  maxPixels?: number;
  compactMaxBytes?: number;
  logger?: Logger;
}

/**
 * Takes resize jobs from the queue until stopped: reads the original, makes the cover and the
 * compact copy, stores both and records them. A bad image ends its job at once with the reason;
 * other failures are retried by the queue, and a job that runs out of attempts is recorded as
 * failed too. Stop it with the returned consumer's stop().
 */
export function startImagingWorker(queue: JobQueue, ports: ImagingPorts, options: ImagingWorkerOptions): JobConsumer {
  const logger = options.logger ?? createLogger('warn', 'keeper-imaging');
  const renditionOptions = { maxPixels: options.maxPixels, maxBytes: options.compactMaxBytes };

  const handler: JobHandler = async (job, delivery) => {
    const started = performance.now();
    const fields = { jobId: job.jobId, imageId: job.imageId, attempt: delivery.attempt };
    logger.debug(fields, 'resize job started');
    const original = await ports.readOriginal(job);
    let made: { cover: Rendition; compact: Rendition };
    try {
      made = await makeRenditions(original, renditionOptions);
    } catch (error) {
      if (error instanceof ImageRejected) throw new PermanentJobError(error.message, { cause: error });
      throw error;
    }
    const [cover, compact] = await Promise.all([store(ports, made.cover), store(ports, made.compact)]);
    await ports.renditionsReady(job, { cover, compact });
    logger.info(
      { ...fields, ms: Math.round(performance.now() - started), originalBytes: original.length, compact: `${compact.width}x${compact.height} ${compact.size} B` },
      'renditions ready',
    );
  };

  const onDeadLetter: DeadLetterHandler = async (job, raw, reason, attempts, kind) => {
    if (!job) {
      logger.error({ bytes: raw.length, reason }, 'a message on the resize queue is not a resize job; it was dead-lettered');
      return;
    }
    const fields = { jobId: job.jobId, imageId: job.imageId, attempts, kind, reason };
    // A rejected image's reason is written for its owner; anything else may name servers and paths.
    const shown = kind === 'permanent' ? reason : `the image could not be processed (${attempts} attempts failed); try adding it again later`;
    await ports.renditionsFailed(job, truncate(shown, LIMITS.imageFailureMax));
    if (kind === 'permanent') logger.info(fields, 'image rejected');
    else logger.error(fields, 'resize job gave up');
  };

  // libvips threads per image: the cores shared among the jobs at once. A lone job then resizes
  // on every core (about 10% faster an image, measured); a full worker keeps to one thread a job,
  // which makes the most images a second. The setting is process-wide: this worker owns sharp here.
  sharp.concurrency(Math.max(1, Math.floor(availableParallelism() / options.concurrency)));
  return queue.consume(handler, { concurrency: options.concurrency, onDeadLetter });
}

async function store(ports: ImagingPorts, rendition: Rendition): Promise<RenditionRecord> {
  const address = await ports.storeRendition(rendition.bytes, rendition.type);
  return { address, type: rendition.type, width: rendition.width, height: rendition.height, size: rendition.bytes.length };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
