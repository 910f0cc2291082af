import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { VaultState, streamIdForUser, toVaultEvent } from '../../src/domain/index.js';
import { Projector } from '../../src/projections/projector.js';
import { readSnapshot } from '../../src/read-model/read-model.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import type { NewEvent } from '../../src/server/eventstore/port.js';
import type { Database, SqlExecutor, TransactionOptions } from '../../src/server/sql/database.js';
import { databaseTargets } from '../support/databases.js';

/**
 * The projector writes a batch with a fixed set of statements for all its users together: these
 * tests put several users (and vault keys) in one batch and check the result against the fold.
 */

let clock = Date.UTC(2024, 5, 1);

function created(recordId: string, name: string, fields: Array<{ name: string; value: string; sensitive: boolean }> = []): NewEvent {
  const id = randomUUID();
  return { id, type: 'RecordCreated', data: { recordId, kind: 'login', name, fields }, metadata: { mutationId: id, recordId, clientId: 'c', at: (clock += 1000) } };
}

function updated(recordId: string, name: string): NewEvent {
  const id = randomUUID();
  return {
    id,
    type: 'RecordUpdated',
    data: { recordId, name, setFields: [{ name: 'pin', value: `"quoted", {braced} \\ NULL`, sensitive: true }], removeFields: [] },
    metadata: { mutationId: id, recordId, clientId: 'c', at: (clock += 1000) },
  };
}

function deleted(recordId: string): NewEvent {
  const id = randomUUID();
  return { id, type: 'RecordDeleted', data: { recordId }, metadata: { mutationId: id, recordId, clientId: 'c', at: (clock += 1000) } };
}

function keySet(keyId: string, envelope: string): NewEvent {
  const id = randomUUID();
  return { id, type: 'VaultKeySet', data: { keyId, envelope }, metadata: { mutationId: id, recordId: '', clientId: 'c', at: (clock += 1000) } };
}

class User {
  readonly id = randomUUID();
  readonly state = new VaultState();

  async append(store: SqlEventStore, events: NewEvent[]): Promise<void> {
    const result = await store.append(streamIdForUser(this.id), this.state.version, events);
    expect(result.duplicate).to.equal(false);
    this.state.applyAll(events.map((event, index) => toVaultEvent({ ...event, version: this.state.version + index + 1 })));
  }

  expected() {
    return { version: this.state.version, lastModifiedAt: this.state.lastModifiedAt, records: this.state.live(), images: [], vaultKey: this.state.vaultKey };
  }
}

const SETTLE_MS = 15_000;

/**
 * Catches up until the read model reaches every user's version: on a shared PostgreSQL another
 * transaction in the cluster can hold the log back for a moment.
 */
async function settle(db: Database, projector: Projector, users: User[]): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    await projector.catchUp();
    const versions = await Promise.all(users.map(async (user) => (await readSnapshot(db, user.id)).version));
    if (versions.every((version, index) => version === users[index]!.state.version)) return;
    if (Date.now() > deadline) expect.fail(`the read model did not reach the users' versions within ${SETTLE_MS} ms`);
    await sleep(20);
  }
}

/** The same database, counting the statements run inside transactions. */
function counting(db: Database): { db: Database; statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    db: {
      kind: db.kind,
      query: (text, params) => db.query(text, params),
      transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions) {
        return db.transaction(
          (tx) =>
            fn({
              query<Row>(text: string, params?: readonly unknown[]) {
                statements.push(text);
                return tx.query<Row>(text, params);
              },
            }),
          options,
        );
      },
      exec: (script) => db.exec(script),
      close: () => db.close(),
    },
  };
}

for (const target of databaseTargets) {
  describe(`Projector batches of many users (${target.name})`, function () {
    let db: Database;
    let store: SqlEventStore;

    before(async function () {
      db = await target.open();
      store = new SqlEventStore(db);
    });

    after(async function () {
      if (db) await target.dispose(db);
    });

    it('applies several users in one batch with a fixed number of statements, like the fold', async function () {
      const users = Array.from({ length: 6 }, () => new User());
      for (const [index, user] of users.entries()) {
        const a = randomUUID();
        const b = randomUUID();
        await user.append(store, [created(a, `a${index}`, [{ name: 'url', value: 'https://x', sensitive: false }]), created(b, `b${index}`)]);
        await user.append(store, [updated(a, `a${index}!`), deleted(b)]);
        if (index % 2 === 0) await user.append(store, [keySet(randomUUID(), `envelope-${index}`)]);
      }
      const { db: counted, statements } = counting(db);
      await settle(db, new Projector(counted, store, { batchSize: 100_000 }), users);
      for (const user of users) expect(await readSnapshot(db, user.id), user.id).to.deep.equal(user.expected());
      // Per batch that applied events: lock the checkpoint (2), read the log, 4 read-model
      // statements, move the checkpoint; then a last pass that finds nothing (2 + 1).
      const writes = statements.filter((text) => /rm_records|rm_user_versions/.test(text));
      const batches = statements.filter((text) => /UPDATE rm_checkpoints/.test(text)).length;
      expect(batches).to.be.at.least(1);
      expect(writes.length).to.equal(4 * batches);
    });

    it('keeps an earlier vault key when a later batch sets none, and takes a new one when set', async function () {
      const alice = new User();
      const bob = new User();
      const projector = new Projector(db, store);
      const firstKey = randomUUID();
      await alice.append(store, [keySet(firstKey, 'first-envelope'), created(randomUUID(), 'one')]);
      await bob.append(store, [created(randomUUID(), 'bob')]);
      await settle(db, projector, [alice, bob]);
      expect((await readSnapshot(db, alice.id)).vaultKey).to.deep.equal({ keyId: firstKey, envelope: 'first-envelope' });
      expect((await readSnapshot(db, bob.id)).vaultKey).to.equal(null);

      // A batch with events of both users, none of them a key: alice keeps hers.
      await alice.append(store, [created(randomUUID(), 'two')]);
      await bob.append(store, [created(randomUUID(), 'bob 2')]);
      await settle(db, projector, [alice, bob]);
      expect(await readSnapshot(db, alice.id)).to.deep.equal(alice.expected());
      expect((await readSnapshot(db, alice.id)).vaultKey).to.deep.equal({ keyId: firstKey, envelope: 'first-envelope' });
      expect(await readSnapshot(db, bob.id)).to.deep.equal(bob.expected());

      // Two keys in one batch: the last one wins.
      const second = randomUUID();
      const third = randomUUID();
      await alice.append(store, [keySet(second, 'second-envelope'), created(randomUUID(), 'three'), keySet(third, 'third-envelope')]);
      await bob.append(store, [keySet(second, 'bob-envelope')]);
      await settle(db, projector, [alice, bob]);
      expect(await readSnapshot(db, alice.id)).to.deep.equal(alice.expected());
      expect((await readSnapshot(db, alice.id)).vaultKey).to.deep.equal({ keyId: third, envelope: 'third-envelope' });
      expect(await readSnapshot(db, bob.id)).to.deep.equal(bob.expected());
    });

    it('refuses a batch that would leave a gap in any of its users, writing nothing', async function () {
      const carol = new User();
      const dave = new User();
      await carol.append(store, [created(randomUUID(), 'c')]);
      await dave.append(store, [created(randomUUID(), 'd')]);
      const projector = new Projector(db, store);
      await settle(db, projector, [carol, dave]);
      // Pretend dave's read model is behind what the log says comes next.
      await db.query(`UPDATE rm_user_versions SET version = 0 WHERE user_id = $1`, [dave.id]);
      // dave's event first: every batch that holds carol's also holds it (batches are log prefixes).
      await dave.append(store, [created(randomUUID(), 'd2')]);
      await carol.append(store, [created(randomUUID(), 'c2')]);
      let failure: unknown;
      const deadline = Date.now() + SETTLE_MS;
      while (failure === undefined && Date.now() < deadline) {
        try {
          await projector.catchUp();
          await sleep(20);
        } catch (error) {
          failure = error;
        }
      }
      expect(String(failure)).to.match(/read model for user .* is at version 0 but the next event is 2/);
      expect((await readSnapshot(db, carol.id)).version).to.equal(1);
      await db.query(`UPDATE rm_user_versions SET version = 1 WHERE user_id = $1`, [dave.id]);
      await settle(db, projector, [carol, dave]);
      expect(await readSnapshot(db, carol.id)).to.deep.equal(carol.expected());
      expect(await readSnapshot(db, dave.id)).to.deep.equal(dave.expected());
    });
  });
}
