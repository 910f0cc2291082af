import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { ResizeJob } from '../../src/imaging/queue/job.js';
import { PermanentJobError, type DeadLetter, type DeadLetterHandler, type DeadLetterKind, type JobConsumer, type JobHandler, type JobQueue } from '../../src/imaging/queue/port.js';
import type { QueueSettingsInput } from '../../src/imaging/queue/settings.js';
import { gate, makeJob, waitFor } from './support/jobs.js';

/** Short waits so the whole contract runs in seconds. */
export const CONTRACT_SETTINGS = {
  ackWaitMs: 1_000,
  maxDeliveries: 3,
  backoffMs: [150, 300],
  duplicateWindowMs: 60_000,
  deadLetterAttempts: 3,
} satisfies QueueSettingsInput;

/** The broker state one test works in (a NATS stream of its own, an in-process store), and what the contract needs to see of it. */
export interface QueueWorld {
  /** A queue on this world's state; may be called again after closing one. */
  open(): Promise<JobQueue>;
  /** Puts bytes on the wire as a producer that is not ours might. */
  publishRaw(bytes: Uint8Array): Promise<void>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Messages still in the queue, handed out or not. */
  backlog(): Promise<number>;
  dispose(): Promise<void>;
}

export interface QueueTarget {
  name: string;
  createWorld(settings: QueueSettingsInput): Promise<QueueWorld>;
}

interface Handled {
  job: ResizeJob;
  attempt: number;
  at: number;
}

interface Dead {
  job: ResizeJob | undefined;
  raw: Uint8Array;
  reason: string;
  attempts: number;
  kind: DeadLetterKind;
}

/** The JobQueue contract: every adapter must pass it unchanged. */
export function queueContract(target: QueueTarget): void {
  describe(`JobQueue contract: ${target.name}`, function () {
    this.timeout(30_000);

    let world: QueueWorld;
    let queue: JobQueue;
    const consumers: JobConsumer[] = [];
    let handled: Handled[];
    let dead: Dead[];

    const onDeadLetter: DeadLetterHandler = async (job, raw, reason, attempts, kind) => {
      dead.push({ job, raw, reason, attempts, kind });
    };

    function consume(handler: JobHandler, concurrency = 2, on: JobQueue = queue, deadLetters: DeadLetterHandler = onDeadLetter): JobConsumer {
      const consumer = on.consume(handler, { concurrency, onDeadLetter: deadLetters });
      consumers.push(consumer);
      return consumer;
    }

    const recording: JobHandler = async (job, delivery) => {
      handled.push({ job, attempt: delivery.attempt, at: Date.now() });
    };

    beforeEach(async function () {
      handled = [];
      dead = [];
      world = await target.createWorld(CONTRACT_SETTINGS);
      queue = await world.open();
    });

    afterEach(async function () {
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop({ graceMs: 0 })));
      await world.dispose();
    });

    it('hands a published job to a handler once, as attempt 1, and removes it once handled', async function () {
      const job = makeJob();
      consume(recording);
      await queue.publish(job);
      await waitFor('the job to be handled', () => handled.length === 1);
      await sleep(300);
      expect(handled.map((h) => [h.job, h.attempt])).to.deep.equal([[job, 1]]);
      await waitFor('the acknowledged job to leave the queue', async () => (await world.backlog()) === 0);
      expect(dead).to.deep.equal([]);
    });

    it('drops a second publish of the same jobId', async function () {
      const job = makeJob();
      await queue.publish(job);
      await queue.publish(job);
      await queue.publish({ ...job, imageId: 'another-image' });
      const other = makeJob();
      await queue.publish(other);
      consume(recording);
      await waitFor('both distinct jobs to be handled', () => handled.length >= 2);
      await sleep(400);
      expect(handled.map((h) => h.job)).to.have.deep.members([job, other]);
      expect(handled).to.have.length(2);
    });

    it('retries a failing job after the backoff delays, then succeeds', async function () {
      const job = makeJob();
      consume(async (received, delivery) => {
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
        if (delivery.attempt < 3) throw new Error(`transient failure ${delivery.attempt}`);
      });
      await queue.publish(job);
      await waitFor('the third attempt', () => handled.length === 3);
      await sleep(400);
      expect(handled.map((h) => h.attempt)).to.deep.equal([1, 2, 3]);
      // backoffMs [150, 300]: a little timer slack, never much earlier.
      expect(handled[1]!.at - handled[0]!.at).to.be.at.least(130);
      expect(handled[2]!.at - handled[1]!.at).to.be.at.least(280);
      expect(dead).to.deep.equal([]);
      await waitFor('the job to leave the queue', async () => (await world.backlog()) === 0);
    });

    it('dead-letters a job that fails on every delivery, after maxDeliveries attempts', async function () {
      const job = makeJob();
      consume(async (received, delivery) => {
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
        throw new Error('the disk is on fire');
      });
      await queue.publish(job);
      await waitFor('the dead letter', () => dead.length === 1);
      await sleep(500);
      expect(handled.map((h) => h.attempt)).to.deep.equal([1, 2, 3]);
      expect(dead).to.have.length(1);
      expect(dead[0]!.job).to.deep.equal(job);
      expect(dead[0]!.attempts).to.equal(3);
      expect(dead[0]!.kind).to.equal('exhausted');
      expect(dead[0]!.reason).to.match(/failed 3 times.*the disk is on fire/);
      const kept = await world.deadLetters();
      expect(kept.map((letter) => [letter.job, letter.attempts, letter.kind])).to.deep.equal([[job, 3, 'exhausted']]);
      expect(kept[0]!.reason).to.equal(dead[0]!.reason);
      await waitFor('the job to leave the queue', async () => (await world.backlog()) === 0);
    });

    it('dead-letters a permanent failure at once, without retrying', async function () {
      const job = makeJob();
      consume(async (received, delivery) => {
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
        throw new PermanentJobError('the original is not an image');
      });
      await queue.publish(job);
      await waitFor('the dead letter', () => dead.length === 1);
      await sleep(500);
      expect(handled).to.have.length(1);
      expect(dead.map((d) => [d.job, d.reason, d.attempts, d.kind])).to.deep.equal([[job, 'the original is not an image', 1, 'permanent']]);
      expect((await world.deadLetters()).map((letter) => [letter.reason, letter.kind])).to.deep.equal([['the original is not an image', 'permanent']]);
    });

    it('retries a failed onDeadLetter on a later delivery with the same reason, without running the handler again', async function () {
      const job = makeJob();
      let calls = 0;
      consume(
        async (received, delivery) => {
          handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
          throw new PermanentJobError('the original is truncated');
        },
        2,
        queue,
        async (received, raw, reason, attempts, kind) => {
          calls++;
          if (calls === 1) throw new Error('the event store is down');
          dead.push({ job: received, raw, reason, attempts, kind });
        },
      );
      await queue.publish(job);
      await waitFor('the second onDeadLetter call', () => dead.length === 1);
      await sleep(500);
      expect(calls).to.equal(2);
      expect(handled).to.have.length(1);
      expect(dead.map((d) => [d.job, d.reason, d.kind])).to.deep.equal([[job, 'the original is truncated', 'permanent']]);
      expect(await world.deadLetters(), 'one record, not one per try').to.have.length(1);
      await waitFor('the job to leave the queue', async () => (await world.backlog()) === 0);
    });

    it('does not redeliver a job whose handler outlives the ack wait while its consumer runs', async function () {
      const job = makeJob();
      consume(async (received, delivery) => {
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
        await sleep(CONTRACT_SETTINGS.ackWaitMs * 2);
      });
      await queue.publish(job);
      await waitFor('the job to be acknowledged', async () => handled.length === 1 && (await world.backlog()) === 0, 10_000);
      await sleep(300);
      expect(handled.map((h) => h.attempt)).to.deep.equal([1]);
    });

    it('dead-letters malformed messages without calling the handler, and keeps going', async function () {
      const notJson = new TextEncoder().encode('resize everything please');
      const notAJob = new TextEncoder().encode(JSON.stringify({ jobId: 42, userId: 'u' }));
      consume(recording);
      await world.publishRaw(notJson);
      await world.publishRaw(notAJob);
      const good = makeJob();
      await queue.publish(good);
      await waitFor('two dead letters and the good job', () => dead.length === 2 && handled.length === 1);
      expect(handled.map((h) => h.job)).to.deep.equal([good]);
      const byRaw = new Map(dead.map((d) => [Buffer.from(d.raw).toString(), d]));
      expect(byRaw.get('resize everything please')?.reason).to.match(/not a JSON resize job/);
      expect(byRaw.get(Buffer.from(notAJob).toString())?.reason).to.match(/not a valid resize job: jobId .*; original/);
      expect(dead.every((d) => d.job === undefined && d.attempts === 1 && d.kind === 'malformed')).to.equal(true);
      expect((await world.deadLetters()).map((letter) => letter.kind)).to.deep.equal(['malformed', 'malformed']);
    });

    it('redelivers a job abandoned by a stopped consumer to a new consumer, which finishes it once', async function () {
      const job = makeJob();
      const stuck = gate();
      const firstAttempts: number[] = [];
      const first = consume(async (_received, delivery) => {
        firstAttempts.push(delivery.attempt);
        await stuck.promise;
      });
      await queue.publish(job);
      await waitFor('the first consumer to start the job', () => firstAttempts.length === 1);
      const stoppedAt = Date.now();
      await first.stop({ graceMs: 0 });
      expect(Date.now() - stoppedAt, 'stop with no grace returns at once').to.be.below(500);

      consume(recording);
      await waitFor('the redelivery', () => handled.length === 1);
      expect(handled[0]!.attempt).to.equal(2);
      // Redelivered once the ack wait (1 s) ran out, not straight away.
      expect(handled[0]!.at - stoppedAt).to.be.at.least(500);
      // The abandoned handler finishing late must change nothing.
      stuck.open();
      await sleep(CONTRACT_SETTINGS.ackWaitMs + 500);
      expect(firstAttempts).to.deep.equal([1]);
      expect(handled).to.have.length(1);
      expect(dead).to.deep.equal([]);
      expect(await world.backlog()).to.equal(0);
    });

    it('dead-letters a job whose last attempt was abandoned, without running it a fourth time', async function () {
      const job = makeJob();
      const stuck = gate();
      const first = consume(async (received, delivery) => {
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
        if (delivery.attempt < 3) throw new Error('transient');
        await stuck.promise;
      });
      await queue.publish(job);
      await waitFor('the last attempt to start', () => handled.length === 3);
      await first.stop({ graceMs: 0 });
      consume(recording);
      await waitFor('the dead letter', () => dead.length === 1);
      stuck.open();
      expect(handled.map((h) => h.attempt)).to.deep.equal([1, 2, 3]);
      expect(dead.map((d) => [d.job, d.attempts, d.kind])).to.deep.equal([[job, 3, 'exhausted']]);
      expect(dead[0]!.reason).to.match(/abandoned on its last attempt/);
      await waitFor('the job to leave the queue', async () => (await world.backlog()) === 0);
    });

    it('stop() without a grace period waits for running jobs and acknowledges them', async function () {
      const job = makeJob();
      const slow = gate();
      const consumer = consume(async (received, delivery) => {
        await slow.promise;
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
      });
      await queue.publish(job);
      await waitFor('the job to be in flight', async () => (await world.backlog()) === 1);
      await sleep(100);
      let stopped = false;
      const stopping = consumer.stop().then(() => (stopped = true));
      await sleep(200);
      expect(stopped, 'stop waits for the running job').to.equal(false);
      slow.open();
      await stopping;
      expect(handled.map((h) => h.attempt)).to.deep.equal([1]);
      await waitFor('the job to leave the queue', async () => (await world.backlog()) === 0);
    });

    it('runs at most `concurrency` handlers at once', async function () {
      let running = 0;
      let peak = 0;
      consume(async (received, delivery) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(150);
        running--;
        handled.push({ job: received, attempt: delivery.attempt, at: Date.now() });
      }, 3);
      const jobs = Array.from({ length: 9 }, () => makeJob());
      for (const job of jobs) await queue.publish(job);
      await waitFor('all nine jobs', () => handled.length === 9);
      expect(peak).to.equal(3);
      expect(handled.map((h) => h.job.jobId)).to.have.members(jobs.map((job) => job.jobId));
    });

    it('keeps jobs published while no consumer runs across closing and reopening the queue', async function () {
      const jobs = [makeJob(), makeJob()];
      for (const job of jobs) await queue.publish(job);
      await queue.close();
      const reopened = await world.open();
      consume(recording, 2, reopened);
      await waitFor('both jobs after the reopen', () => handled.length === 2);
      expect(handled.map((h) => h.job)).to.have.deep.members(jobs);
      expect(handled.every((h) => h.attempt === 1)).to.equal(true);
    });
  });
}
