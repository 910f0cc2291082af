import { expect } from 'chai';
import { pageByName } from '../../../src/client/core/name-order.js';
import { KeeperFailure } from '../../../src/client/core/failures.js';
import { MemoryReplicaStore } from '../../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../../src/client/sync/sync-engine.js';
import { MemoryLog } from '../../support/memory-transport.js';

const USER = '00000000-0000-4000-8000-000000000003';
const SECRET = 'lantern orbit cobble ferry';
const WEAK_KDF = { allowWeakForTests: true, cost: { N: 2 ** 10 } };

const names = (engine: SyncEngine, options: Parameters<typeof pageByName>[1] = { limit: 100 }) => pageByName(engine, options).records.map((r) => engine.open(r).name);

/** Paging by name (any case, by kind, cursors) in an order that follows every change of the view; and the replica kept only when a sync changed it. */
describe('records in name order, page by page', () => {
  it('pages in name order, any case, by kind, and refuses a cursor it did not give', async () => {
    const log = new MemoryLog();
    const engine = await SyncEngine.open({ store: new MemoryReplicaStore(), transport: log.transport(), userId: USER, clientId: 'laptop' });
    for (const [name, kind] of [['delta', 'note'], ['Alpha', 'login'], ['charlie', 'login'], ['Bravo', 'note'], ['echo', 'login']] as const) {
      await engine.create({ kind, name, fields: [] });
    }
    const first = pageByName(engine, { limit: 2 });
    expect(first.records.map((r) => r.name)).to.deep.equal(['Alpha', 'Bravo']);
    expect(first.total).to.equal(5);
    const second = pageByName(engine, { limit: 2, cursor: first.nextCursor! });
    expect(second.records.map((r) => r.name)).to.deep.equal(['charlie', 'delta']);
    const last = pageByName(engine, { limit: 2, cursor: second.nextCursor! });
    expect(last.records.map((r) => r.name)).to.deep.equal(['echo']);
    expect(last.nextCursor).to.equal(null);
    expect(names(engine, { kind: 'login', limit: 10 })).to.deep.equal(['Alpha', 'charlie', 'echo']);
    expect(pageByName(engine, { kind: 'card', limit: 10 }).total).to.equal(0);
    expect(() => pageByName(engine, { limit: 2, cursor: 'bm90IGEgY3Vyc29y' })).to.throw(KeeperFailure, /cursor/);
  });

  it('follows edits, deletes, syncs from another device, locks and unlocks', async () => {
    const log = new MemoryLog();
    const store = new MemoryReplicaStore();
    const engine = await SyncEngine.open({ store, transport: log.transport(), userId: USER, clientId: 'laptop', kdf: WEAK_KDF });
    const b = await engine.create({ kind: 'note', name: 'b', fields: [] });
    await engine.create({ kind: 'note', name: 'c', fields: [] });
    expect(names(engine)).to.deep.equal(['b', 'c']);
    await engine.update(b, { name: 'z' });
    expect(names(engine)).to.deep.equal(['c', 'z']);
    await engine.delete(b);
    expect(names(engine)).to.deep.equal(['c']);

    const phone = await SyncEngine.open({ store: new MemoryReplicaStore(), transport: log.transport(), userId: USER, clientId: 'phone', kdf: WEAK_KDF });
    await phone.sync();
    await phone.create({ kind: 'note', name: 'a', fields: [] });
    await phone.sync();
    await engine.sync();
    expect(names(engine)).to.deep.equal(['a', 'c']);

    // Sealed names sort last while they cannot be read, in their place once unlocked.
    await engine.enableEncryption(SECRET);
    await engine.create({ kind: 'note', name: 'b2', fields: [], sealAll: true });
    expect(names(engine)).to.deep.equal(['a', 'b2', 'c']);
    engine.lock();
    expect(pageByName(engine, { limit: 10 }).records.map((r) => engine.open(r).unreadable.includes('name'))).to.deep.equal([false, false, true]);
    await engine.unlock(SECRET);
    expect(names(engine)).to.deep.equal(['a', 'b2', 'c']);
  });
});

/** Counts what reaches the store: a sync that finds nothing new must not write the replica again. */
class CountingStore extends MemoryReplicaStore {
  writes = 0;
  override async write(...args: Parameters<MemoryReplicaStore['write']>): Promise<void> {
    this.writes++;
    await super.write(...args);
  }
}

describe('keeping the replica after a sync', () => {
  it('writes it when the sync brought or sent something, and not when it found nothing new', async () => {
    const log = new MemoryLog();
    const store = new CountingStore();
    const engine = await SyncEngine.open({ store, transport: log.transport(), userId: USER, clientId: 'laptop' });
    await engine.create({ kind: 'note', name: 'n', fields: [] });
    const queued = store.writes;
    expect(queued, 'the edit is kept as soon as it is made').to.be.greaterThan(0);
    await engine.sync();
    const afterPush = store.writes;
    expect(afterPush, 'a sync that pushed').to.equal(queued + 1);
    await engine.sync();
    await engine.sync();
    expect(store.writes, 'two syncs with nothing new').to.equal(afterPush);

    const phone = await SyncEngine.open({ store: new MemoryReplicaStore(), transport: log.transport(), userId: USER, clientId: 'phone' });
    await phone.sync();
    await phone.create({ kind: 'note', name: 'from the phone', fields: [] });
    await phone.sync();
    await engine.sync();
    expect(store.writes, 'a sync that pulled').to.equal(afterPush + 1);
    const reopened = await SyncEngine.open({ store, transport: log.transport(), userId: USER, clientId: 'laptop' });
    expect(reopened.records().map((r) => r.name).sort()).to.deep.equal(['from the phone', 'n']);
  });
});
