import { expect } from 'chai';
import { clearReadModel, READ_MODEL_CHECKPOINT } from '../../src/read-model/read-model.js';
import { lockCheckpoint, moveCheckpoint } from '../../src/server/eventstore/checkpoints.js';
import { LOG_START } from '../../src/server/eventstore/port.js';
import { pgliteTarget } from '../support/databases.js';

describe('log tailer checkpoints', () => {
  it('start at the beginning of the log, move per tailer, and a read-model rebuild resets only its own', async () => {
    const db = await pgliteTarget.open();
    try {
      await db.transaction(async (tx) => {
        expect(await lockCheckpoint(tx, READ_MODEL_CHECKPOINT)).to.deep.equal(LOG_START);
        expect(await lockCheckpoint(tx, 'image-jobs')).to.deep.equal(LOG_START);
        await moveCheckpoint(tx, READ_MODEL_CHECKPOINT, { commit: 7n, prepare: 70n });
        await moveCheckpoint(tx, 'image-jobs', { commit: 5n, prepare: 50n });
      });
      await db.transaction(async (tx) => {
        expect(await lockCheckpoint(tx, READ_MODEL_CHECKPOINT)).to.deep.equal({ commit: 7n, prepare: 70n });
        await clearReadModel(tx);
      });
      await db.transaction(async (tx) => {
        expect(await lockCheckpoint(tx, READ_MODEL_CHECKPOINT)).to.deep.equal(LOG_START);
        // The image job relay keeps its place, so a rebuild does not queue every image again.
        expect(await lockCheckpoint(tx, 'image-jobs')).to.deep.equal({ commit: 5n, prepare: 50n });
      });
    } finally {
      await pgliteTarget.dispose(db);
    }
  });
});
