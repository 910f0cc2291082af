import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { VaultCommand } from '../../src/domain/commands.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import type { Database } from '../../src/server/sql/database.js';
import { MutationRejected, VaultService } from '../../src/server/vault/vault-service.js';
import { databaseTargets } from '../support/databases.js';

/**
 * Two replicas (VaultService instances with event stores of their own) over one database. A
 * replica uses its cached state without reading the stream when the push's expected version
 * matches it, so these check that a cache left behind by the other replica never decides
 * wrongly: it can only cost a conflict (or a recognised retry), as a caught-up state would.
 */
function create(recordId: string = randomUUID()): VaultCommand {
  return { type: 'CreateRecord', mutationId: randomUUID(), recordId, kind: 'note', name: `note ${recordId.slice(0, 8)}`, fields: [] };
}

function remove(recordId: string): VaultCommand {
  return { type: 'DeleteRecord', mutationId: randomUUID(), recordId };
}

for (const target of databaseTargets) {
  describe(`VaultService across replicas (${target.name})`, function () {
    let db: Database;
    let a: VaultService;
    let b: VaultService;
    let store: SqlEventStore;

    before(async function () {
      db = await target.open();
      store = new SqlEventStore(db);
      a = new VaultService(db, new SqlEventStore(db));
      b = new VaultService(db, new SqlEventStore(db));
    });

    after(async function () {
      if (db) await target.dispose(db);
    });

    it('answers a conflict when its cached state is behind the stream, then catches up at the newer version', async function () {
      const user = randomUUID();
      expect(await a.push(user, { expectedVersion: 0, clientId: 'c1', commands: [create()] })).to.deep.equal({ kind: 'accepted', version: 1, duplicate: false });
      expect(await b.push(user, { expectedVersion: 1, clientId: 'c2', commands: [create()] })).to.deep.equal({ kind: 'accepted', version: 2, duplicate: false });

      // A still holds version 1: a push at 1 must not land.
      expect(await a.push(user, { expectedVersion: 1, clientId: 'c1', commands: [create()] })).to.deep.equal({ kind: 'conflict', currentVersion: 2 });
      expect((await store.streamInfo(streamIdForUser(user))).version).to.equal(2);

      expect(await a.push(user, { expectedVersion: 2, clientId: 'c1', commands: [create()] })).to.deep.equal({ kind: 'accepted', version: 3, duplicate: false });
      expect((await store.readStream(streamIdForUser(user), 1, 10)).map((e) => e.version)).to.deep.equal([1, 2, 3]);
    });

    it('answers a conflict, not a rejection, when a mutation fails only against its stale state', async function () {
      const user = randomUUID();
      const record = randomUUID();
      await a.push(user, { expectedVersion: 0, clientId: 'c1', commands: [create(record)] });
      await b.push(user, { expectedVersion: 1, clientId: 'c2', commands: [remove(record)] });

      // Against A's cache the record is live, so deleting it again would be fine; creating it
      // again is refused there, but the real answer is that the client is behind.
      expect(await a.push(user, { expectedVersion: 1, clientId: 'c1', commands: [create(record)] })).to.deep.equal({ kind: 'conflict', currentVersion: 2 });

      // At the current version the domain decides, and refuses what it should.
      try {
        await a.push(user, { expectedVersion: 2, clientId: 'c1', commands: [remove(record)] });
        expect.fail('deleting a deleted record must be refused');
      } catch (error) {
        expect(error).to.be.instanceOf(MutationRejected);
      }
    });

    it('recognises a retry that landed through the other replica while its state was behind', async function () {
      const user = randomUUID();
      await a.push(user, { expectedVersion: 0, clientId: 'c1', commands: [create()] });
      const push = { expectedVersion: 1, clientId: 'c1', commands: [create(), create()] };
      expect(await b.push(user, push)).to.deep.equal({ kind: 'accepted', version: 3, duplicate: false });

      expect(await a.push(user, push)).to.deep.equal({ kind: 'accepted', version: 3, duplicate: true });
      expect((await store.streamInfo(streamIdForUser(user))).version).to.equal(3);
      expect(await a.push(user, { expectedVersion: 3, clientId: 'c1', commands: [create()] })).to.deep.equal({ kind: 'accepted', version: 4, duplicate: false });
    });
  });
}
