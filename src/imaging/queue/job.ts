import { z } from 'zod';

/**
 * A request to make the renditions of one stored original. Jobs cross a wire (NATS, or the
 * in-process queue's byte copy of one), so the consumer validates each one before acting on it.
 */
export const resizeJobSchema = z.object({
  /** Chosen by the producer (the outbox entry); the queue drops a second publish of the same id. */
  jobId: z.uuid({ message: 'must be a UUID' }),
  userId: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  imageId: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  /** Blob address of the original: the sha256 of its bytes, lowercase hex. */
  original: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 blob address (64 lowercase hex digits)'),
  /** The type sniffed from the bytes at upload, never the one the client declared. */
  type: z.string().regex(/^image\/[a-z0-9.+-]+$/, 'must be an image/* media type'),
});

export type ResizeJob = z.infer<typeof resizeJobSchema>;

/** Throws a RangeError naming the bad fields, so nothing invalid reaches the queue. */
export function encodeResizeJob(job: ResizeJob): Uint8Array {
  const parsed = resizeJobSchema.safeParse(job);
  if (!parsed.success) throw new RangeError(`not a valid resize job: ${describeIssues(parsed.error)}`);
  return new TextEncoder().encode(JSON.stringify(parsed.data));
}

export type DecodedJob = { ok: true; job: ResizeJob } | { ok: false; reason: string };

/** Never throws: a message that is not a valid job comes back with the reason, for the dead-letter record. */
export function decodeResizeJob(raw: Uint8Array): DecodedJob {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    return { ok: false, reason: `the message is not a JSON resize job (${raw.byteLength} bytes that do not parse)` };
  }
  const parsed = resizeJobSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: `the message is not a valid resize job: ${describeIssues(parsed.error)}` };
  return { ok: true, job: parsed.data };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'the message'} ${issue.message}`).join('; ');
}
