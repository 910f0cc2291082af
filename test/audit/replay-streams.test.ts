import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { replayStream, replayStreams } from '../../src/audit/replay.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { VaultService } from '../../src/server/vault/vault-service.js';
import { pgliteTarget } from '../support/databases.js';

describe('replayStreams (every user, read ahead)', () => {
  it('yields each stream in the order given, each exactly as a replay of it alone', async () => {
    const db = await pgliteTarget.open();
    try {
      const store = new SqlEventStore(db);
      const vault = new VaultService(db, store);
      const users = [randomUUID(), randomUUID(), randomUUID()];
      for (const [index, userId] of users.entries()) {
        for (let version = 0; version < 3 + index * 4; version++) {
          await vault.push(userId, {
            expectedVersion: version,
            clientId: 'test',
            commands: [{ type: 'CreateRecord', mutationId: randomUUID(), recordId: randomUUID(), kind: 'note', name: `n${version}`, fields: [] }],
          });
        }
      }
      // An empty stream among them, and pages smaller than a stream, so both paths are crossed.
      const streams = [...users, randomUUID()].map((userId, index) => ({ streamId: streamIdForUser(userId), streamVersion: index < 3 ? 3 + index * 4 : 0 }));
      const seen: string[] = [];
      for await (const { streamId, state } of replayStreams(store, streams, { pageSize: 2 })) {
        seen.push(streamId);
        const alone = await replayStream(store, streamId, { streamVersion: streams.find((s) => s.streamId === streamId)!.streamVersion });
        expect(state.version).to.equal(alone.version);
        expect([...state.records.values()]).to.deep.equal([...alone.records.values()]);
      }
      expect(seen).to.deep.equal(streams.map((s) => s.streamId));
    } finally {
      await pgliteTarget.dispose(db);
    }
  });
});
