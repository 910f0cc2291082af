import { z } from 'zod';

/** Delivery rules both queue adapters follow; parse with queueSettingsSchema to get the defaults. */
export const queueSettingsSchema = z.object({
  /** A delivery not acknowledged this long after its handler last showed life goes to another consumer. */
  ackWaitMs: z.number().int().min(100, 'must be at least 100 ms').default(30_000),
  /** Handler attempts per job before it goes to the dead letters. */
  maxDeliveries: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(5),
  /** Delay before the next attempt after attempt n failed: backoffMs[n - 1], the last entry once past the end. */
  backoffMs: z.array(z.number().int().min(0, 'must not be negative')).min(1, 'needs at least one delay').default([1_000, 10_000, 60_000, 300_000]),
  /** A second publish of a jobId within this window is dropped. */
  duplicateWindowMs: z.number().int().min(1_000, 'must be at least 1000 ms').default(60 * 60_000),
  /**
   * Extra deliveries spent on dead-lettering a job when onDeadLetter fails (the event store being
   * down, say); the job is then recorded as dead and dropped anyway.
   */
  deadLetterAttempts: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(10),
});

export type QueueSettings = z.infer<typeof queueSettingsSchema>;
export type QueueSettingsInput = z.input<typeof queueSettingsSchema>;

export function queueSettings(input: QueueSettingsInput = {}): QueueSettings {
  return queueSettingsSchema.parse(input);
}

/** How long to wait before delivering a job again after its attempt `attempt` (1-based) failed. */
export function backoffDelay(settings: QueueSettings, attempt: number): number {
  const index = Math.min(Math.max(attempt, 1), settings.backoffMs.length) - 1;
  return settings.backoffMs[index]!;
}
