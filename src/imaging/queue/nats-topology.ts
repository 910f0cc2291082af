import { nanos } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { QueueSettings } from './settings.js';

/** Where the jobs live in JetStream. Tests use names of their own; see natsNames(). */
export interface NatsNames {
  /** Work-queue stream holding jobs until a worker acknowledges them. */
  stream: string;
  subject: string;
  /** Durable pull consumer shared by every imaging worker. */
  consumer: string;
  /** Limits stream keeping what was given up on, for operators. */
  deadLetterStream: string;
  deadLetterSubject: string;
}

export const DEFAULT_NATS_NAMES: NatsNames = {
  stream: 'KEEPER_IMAGE_JOBS',
  subject: 'keeper.images.resize',
  consumer: 'keeper-imaging',
  deadLetterStream: 'KEEPER_IMAGE_JOBS_DEAD',
  deadLetterSubject: 'keeper.images.resize.dead',
};

/** A full set of names under one prefix (letters, digits, - and _), e.g. one per test. */
export function natsNames(prefix: string): NatsNames {
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new RangeError(`a NATS name prefix may hold only letters, digits, - and _, not "${prefix}"`);
  return {
    stream: `${prefix}_JOBS`,
    subject: `${prefix}.resize`,
    consumer: `${prefix}-imaging`,
    deadLetterStream: `${prefix}_JOBS_DEAD`,
    deadLetterSubject: `${prefix}.resize.dead`,
  };
}

export interface TopologyOptions {
  names: NatsNames;
  settings: QueueSettings;
  deadLetterMaxAgeMs: number;
}

/** Creates the streams and the consumer, or brings existing ones to these settings. Safe to run from several processes at once. */
export async function ensureTopology(jsm: JetStreamManager, options: TopologyOptions): Promise<void> {
  const { names, settings } = options;
  await ensureStream(jsm, {
    name: names.stream,
    subjects: [names.subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(settings.duplicateWindowMs),
  });
  await ensureStream(jsm, {
    name: names.deadLetterStream,
    subjects: [names.deadLetterSubject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(options.deadLetterMaxAgeMs),
    // The server wants the window within max_age; dead letters are deduplicated by stream sequence.
    duplicate_window: nanos(Math.min(options.deadLetterMaxAgeMs, 2 * 60_000)),
  });
  await ensureConsumer(jsm, names.stream, {
    durable_name: names.consumer,
    filter_subject: names.subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    // The handler runs maxDeliveries times at most; the extra deliveries only retry a failed dead-lettering.
    max_deliver: settings.maxDeliveries + settings.deadLetterAttempts,
  });
}

type ManagedStream = Pick<StreamConfig, 'name' | 'subjects' | 'retention' | 'storage' | 'duplicate_window'> & Partial<Pick<StreamConfig, 'max_age'>>;

async function ensureStream(jsm: JetStreamManager, wanted: ManagedStream): Promise<void> {
  const existing = await streamConfig(jsm, wanted.name);
  if (!existing) {
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (error) {
      // Another worker created it first; fall through and check its settings.
      if ((await streamConfig(jsm, wanted.name)) === undefined) throw error;
      return ensureStream(jsm, wanted);
    }
  }
  if (existing.retention !== wanted.retention) {
    throw new Error(`NATS stream ${wanted.name} exists with ${existing.retention} retention, not ${wanted.retention}; delete it or configure other stream names`);
  }
  const drifted =
    existing.duplicate_window !== wanted.duplicate_window ||
    (wanted.max_age !== undefined && existing.max_age !== wanted.max_age) ||
    existing.subjects.join(' ') !== wanted.subjects.join(' ');
  if (drifted) await jsm.streams.update(wanted.name, { ...existing, ...wanted });
}

async function streamConfig(jsm: JetStreamManager, name: string): Promise<StreamConfig | undefined> {
  try {
    return (await jsm.streams.info(name)).config;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

type ManagedConsumer = Pick<ConsumerConfig, 'durable_name' | 'filter_subject' | 'ack_policy' | 'deliver_policy' | 'ack_wait' | 'max_deliver'>;

async function ensureConsumer(jsm: JetStreamManager, stream: string, wanted: ManagedConsumer): Promise<void> {
  const name = wanted.durable_name!;
  let existing: ConsumerConfig | undefined;
  try {
    existing = (await jsm.consumers.info(stream, name)).config;
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  if (!existing) {
    // Adding a durable with an identical configuration is idempotent on the server, so a race is harmless.
    await jsm.consumers.add(stream, wanted);
    return;
  }
  if (existing.ack_wait !== wanted.ack_wait || existing.max_deliver !== wanted.max_deliver) {
    await jsm.consumers.update(stream, name, { ack_wait: wanted.ack_wait, max_deliver: wanted.max_deliver });
  }
}
