import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ResizeJob } from '../../src/imaging/queue/job.js';
import { NatsJobQueue, type NatsJobQueueOptions } from '../../src/imaging/queue/nats-queue.js';
import { natsNames, type NatsNames } from '../../src/imaging/queue/nats-topology.js';
import { JobQueueUnavailable, type JobConsumer } from '../../src/imaging/queue/port.js';
import type { QueueSettingsInput } from '../../src/imaging/queue/settings.js';
import { CONTRACT_SETTINGS, queueContract } from './queue-contract.js';
import { makeJob, testLogger, waitFor } from './support/jobs.js';
import { freePort, natsUrl, OwnNatsServer } from './support/nats.js';

function uniqueNames(): NatsNames {
  return natsNames(`KEEPER_TEST_${randomBytes(5).toString('hex')}`);
}

function queueOptions(url: string, names: NatsNames, settings: QueueSettingsInput, extra: Partial<NatsJobQueueOptions> = {}): NatsJobQueueOptions {
  return { url, names, settings, fetchExpiresMs: 1_000, retryDelayMs: 200, reconnectWaitMs: 200, connectTimeoutMs: 2_000, logger: testLogger(), ...extra };
}

async function deleteStreams(nc: NatsConnection, names: NatsNames): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const stream of [names.stream, names.deadLetterStream]) await jsm.streams.delete(stream).catch(() => false);
}

if (natsUrl) {
  const url = natsUrl;

  queueContract({
    name: `NATS JetStream (${url})`,
    async createWorld(settings) {
      const names = uniqueNames();
      const queues: NatsJobQueue[] = [];
      const open = async () => {
        const queue = new NatsJobQueue(queueOptions(url, names, settings));
        queues.push(queue);
        await queue.connect();
        return queue;
      };
      // Creates the streams, reads the dead letters and the backlog.
      const admin = await open();
      const nc = await connect({ servers: url });
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      return {
        open,
        async publishRaw(bytes) {
          await js.publish(names.subject, bytes);
        },
        deadLetters: () => admin.deadLetters(),
        async backlog() {
          return (await jsm.streams.info(names.stream)).state.messages;
        },
        async dispose() {
          await Promise.all(queues.map((queue) => queue.close()));
          await deleteStreams(nc, names);
          await nc.close();
        },
      };
    },
  });

  describe('NatsJobQueue', function () {
    this.timeout(60_000);

    it('sets up a work-queue stream, a durable explicit-ack pull consumer and a dead-letter stream', async function () {
      const names = uniqueNames();
      const queue = new NatsJobQueue(queueOptions(url, names, CONTRACT_SETTINGS));
      const nc = await connect({ servers: url });
      try {
        await queue.connect();
        const jsm = await jetstreamManager(nc);
        const stream = (await jsm.streams.info(names.stream)).config;
        expect(stream.retention).to.equal('workqueue');
        expect(stream.subjects).to.deep.equal([names.subject]);
        expect(stream.duplicate_window).to.equal(CONTRACT_SETTINGS.duplicateWindowMs * 1e6);
        const consumer = (await jsm.consumers.info(names.stream, names.consumer)).config;
        expect(consumer.durable_name).to.equal(names.consumer);
        expect(consumer.ack_policy).to.equal('explicit');
        expect(consumer.ack_wait).to.equal(CONTRACT_SETTINGS.ackWaitMs * 1e6);
        expect(consumer.max_deliver).to.equal(CONTRACT_SETTINGS.maxDeliveries + CONTRACT_SETTINGS.deadLetterAttempts);
        expect((await jsm.streams.info(names.deadLetterStream)).config.retention).to.equal('limits');

        // A second worker with a longer ack wait brings the shared consumer to its settings.
        const second = new NatsJobQueue(queueOptions(url, names, { ...CONTRACT_SETTINGS, ackWaitMs: 2_000 }));
        await second.connect();
        await second.close();
        expect((await jsm.consumers.info(names.stream, names.consumer)).config.ack_wait).to.equal(2_000 * 1e6);
      } finally {
        await queue.close();
        await deleteStreams(nc, names);
        await nc.close();
      }
    });

    it('makes its durable consumer again when an operator deletes it', async function () {
      const names = uniqueNames();
      const queue = new NatsJobQueue(queueOptions(url, names, CONTRACT_SETTINGS));
      const nc = await connect({ servers: url });
      const handled: string[] = [];
      const consumer = queue.consume(async (job) => void handled.push(job.jobId), { concurrency: 1, onDeadLetter: async () => undefined });
      try {
        await queue.publish(makeJob());
        await waitFor('the first job', () => handled.length === 1);
        const jsm = await jetstreamManager(nc);
        await jsm.consumers.delete(names.stream, names.consumer);
        await waitFor('the consumer to be made again', () => jsm.consumers.info(names.stream, names.consumer).then(() => true, () => false), 20_000);
        await queue.publish(makeJob());
        await waitFor('a job after the consumer came back', () => handled.length === 2, 20_000);

      } finally {
        await consumer.stop({ graceMs: 0 });
        await queue.close();
        await deleteStreams(nc, names);
        await nc.close();
      }
    });

    it('rejects a publish with JobQueueUnavailable, quickly, when NATS is unreachable', async function () {
      const closedPort = await freePort();
      const queue = new NatsJobQueue(queueOptions(`nats://127.0.0.1:${closedPort}`, uniqueNames(), CONTRACT_SETTINGS));
      try {
        const started = Date.now();
        const error = await queue.publish(makeJob()).then(
          () => expect.fail('publish must reject while NATS is unreachable'),
          (rejected: unknown) => rejected,
        );
        expect(error).to.be.instanceOf(JobQueueUnavailable);
        expect((error as Error).message).to.match(new RegExp(`^NATS at nats://127\\.0\\.0\\.1:${closedPort} is unavailable \\(.+\\); cannot connect$`));
        expect(Date.now() - started).to.be.below(3_000);
        // A consumer started meanwhile waits instead of failing, and stops promptly.
        const consumer = queue.consume(async () => undefined, { concurrency: 1, onDeadLetter: async () => undefined });
        await sleep(300);
        const stopping = Date.now();
        await consumer.stop();
        expect(Date.now() - stopping).to.be.below(2_500);
      } finally {
        await queue.close();
      }
    });

    it('fails publishes while its NATS server is down and resumes publishing and consuming once it is back', async function () {
      const server = await OwnNatsServer.start();
      const names = uniqueNames();
      const queue = new NatsJobQueue(queueOptions(server.url, names, CONTRACT_SETTINGS, { publishTimeoutMs: 1_000 }));
      const handled: ResizeJob[] = [];
      let consumer: JobConsumer | undefined;
      try {
        consumer = queue.consume(async (job) => void handled.push(job), { concurrency: 2, onDeadLetter: async () => undefined });
        const before = makeJob();
        await queue.publish(before);
        await waitFor('the job published before the outage', () => handled.length === 1);

        await server.pause();
        const during = makeJob();
        const started = Date.now();
        const error = await queue.publish(during).then(
          () => expect.fail('publish must reject while the server is down'),
          (rejected: unknown) => rejected,
        );
        expect(error).to.be.instanceOf(JobQueueUnavailable);
        expect((error as Error).message).to.match(/^NATS at nats:\/\/127\.0\.0\.1:\d+ is unavailable \(.+\); the job was not published$/);
        expect(Date.now() - started).to.be.below(2_500);

        await server.resume();
        // The way the outbox relay does it: retry until the queue takes the job.
        await waitFor('a publish to succeed after the restart', () => queue.publish(during).then(() => true, () => false), 20_000);
        const after = makeJob();
        await queue.publish(after);
        await waitFor('the jobs published after the restart', () => handled.length === 3, 20_000);
        expect(handled.map((job) => job.jobId)).to.have.members([before.jobId, during.jobId, after.jobId]);
      } finally {
        await consumer?.stop({ graceMs: 0 });
        await queue.close();
        await server.dispose();
      }
    });

    it('sets its streams up again when its NATS server comes back without its storage', async function () {
      const server = await OwnNatsServer.start();
      const queue = new NatsJobQueue(queueOptions(server.url, uniqueNames(), CONTRACT_SETTINGS, { publishTimeoutMs: 1_000 }));
      const handled: ResizeJob[] = [];
      let consumer: JobConsumer | undefined;
      try {
        consumer = queue.consume(async (job) => void handled.push(job), { concurrency: 1, onDeadLetter: async () => undefined });
        await queue.publish(makeJob());
        await waitFor('the job published before the restart', () => handled.length === 1);
        await server.pause();
        await server.wipeStorage();
        await server.resume();
        const after = makeJob();
        await waitFor('a publish to succeed after the restart', () => queue.publish(after).then(() => true, () => false), 20_000);
        await waitFor('the job published after the restart', () => handled.length === 2, 20_000);
        expect(handled[1]).to.deep.equal(after);
      } finally {
        await consumer?.stop({ graceMs: 0 });
        await queue.close();
        await server.dispose();
      }
    });
  });
} else {
  describe('NATS JetStream job queue', function () {
    it('needs KEEPER_NATS_URL (CI sets it)');
  });
}
