import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { LOG_START } from '../../src/server/eventstore/port.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { jobsIn } from '../../src/server/images/job-relay.js';
import { pgliteTarget } from '../support/databases.js';

describe('image job relay: reading the log', () => {
  it('reads every event by position but only image attachments with their payload, and makes one job per image in the clear', async () => {
    const db = await pgliteTarget.open();
    try {
      const store = new SqlEventStore(db);
      const userId = randomUUID();
      const recordId = randomUUID();
      const original = (type: string) => ({ address: 'a'.repeat(64), type, width: 10, height: 10, size: 100 });
      const metadata = { mutationId: randomUUID(), recordId, clientId: 'test', at: 1 };
      const clear = randomUUID();
      const sealed = randomUUID();
      await store.append(streamIdForUser(userId), 0, [
        { id: randomUUID(), type: 'RecordCreated', data: { recordId, kind: 'note', name: 'n', fields: [] }, metadata },
        { id: randomUUID(), type: 'ImageAttached', data: { imageId: clear, recordId, fileName: 'a.png', original: original('image/png'), encrypted: false }, metadata },
        { id: randomUUID(), type: 'ImageAttached', data: { imageId: sealed, recordId, fileName: 'kpr1.x', original: original('application/octet-stream'), encrypted: true }, metadata },
      ]);
      const events = await store.readAll(LOG_START, 100, { types: ['ImageAttached'] });
      expect(events.map((event) => [event.type, event.data === null])).to.deep.equal([
        ['RecordCreated', true],
        ['ImageAttached', false],
        ['ImageAttached', false],
      ]);
      const jobs = jobsIn(events);
      expect(jobs.map((job) => [job.userId, job.imageId, job.type])).to.deep.equal([[userId, clear, 'image/png']]);
      // The job id is derived from the image: publishing it again after a crash is deduplicated.
      expect(jobsIn(events)[0]!.jobId).to.equal(jobs[0]!.jobId);
    } finally {
      await pgliteTarget.dispose(db);
    }
  });
});
