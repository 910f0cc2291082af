import { expect } from 'chai';
import { decodeResizeJob, encodeResizeJob } from '../../src/imaging/queue/job.js';
import { MemoryJobQueue } from '../../src/imaging/queue/memory-queue.js';
import { makeJob, testLogger } from './support/jobs.js';

describe('resize job wire format', function () {
  it('round-trips a job and drops fields it does not know', function () {
    const job = makeJob();
    expect(decodeResizeJob(encodeResizeJob(job))).to.deep.equal({ ok: true, job });
    const newer = new TextEncoder().encode(JSON.stringify({ ...job, priority: 'high' }));
    expect(decodeResizeJob(newer)).to.deep.equal({ ok: true, job });
  });

  it('explains what is wrong with a message that is not a job', function () {
    expect(decodeResizeJob(Uint8Array.from([0xff, 0xfe, 0x00]))).to.deep.equal({ ok: false, reason: 'the message is not a JSON resize job (3 bytes that do not parse)' });
    const decoded = decodeResizeJob(new TextEncoder().encode(JSON.stringify({ ...makeJob(), original: 'not-a-hash', type: 'text/plain' })));
    expect(decoded.ok).to.equal(false);
    expect(!decoded.ok && decoded.reason).to.equal(
      'the message is not a valid resize job: original must be a sha256 blob address (64 lowercase hex digits); type must be an image/* media type',
    );
  });

  it('refuses to publish an invalid job rather than poison the queue', async function () {
    const queue = new MemoryJobQueue({ logger: testLogger() });
    try {
      const error = await queue.publish({ ...makeJob(), jobId: 'not-a-uuid' }).then(
        () => expect.fail('publish must reject an invalid job'),
        (rejected: unknown) => rejected,
      );
      expect(error).to.be.instanceOf(RangeError);
      expect((error as Error).message).to.equal('not a valid resize job: jobId must be a UUID');
      expect(queue.store.size).to.equal(0);
    } finally {
      await queue.close();
    }
  });
});
