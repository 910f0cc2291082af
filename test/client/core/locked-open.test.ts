import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryReplicaStore } from '../../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../../src/client/sync/sync-engine.js';
import type { ReplicaPlace } from '../../../src/client/sync/sync-engine.js';
import { MemoryLog } from '../../support/memory-transport.js';

const USER = '00000000-0000-4000-8000-000000000002';
const SECRET = 'lantern orbit cobble ferry';
const WEAK_KDF = { allowWeakForTests: true, cost: { N: 2 ** 10 } };

/** An encrypted vault with one login whose password is sealed, pushed to an in-memory log. */
async function encryptedVault(place: ReplicaPlace): Promise<{ log: MemoryLog; id: string }> {
  const log = new MemoryLog();
  const engine = await SyncEngine.open({ ...place, transport: log.transport(), userId: USER, clientId: 'laptop', kdf: WEAK_KDF });
  const id = await engine.create({
    kind: 'login',
    name: 'Mail',
    fields: [
      { name: 'user', value: 'ann@example.org', sensitive: false },
      { name: 'password', value: 'zebra-quartz-41', sensitive: true },
    ],
  });
  await engine.enableEncryption(SECRET);
  return { log, id };
}

/** Sensitive values included: what is searchable while locked or unlocked is the point here. */
function hits(engine: SyncEngine, query: string): string[] {
  return engine.search(query, { includeSensitive: true }).hits.map((h) => h.id);
}

describe('a replica opened locked', () => {
  it('from memory: names, what is not sealed and search over it; unlock decrypts in place, lock forgets again', async () => {
    const store = new MemoryReplicaStore();
    const { log, id } = await encryptedVault({ store });
    const locked = await SyncEngine.open({ store, transport: log.transport(), userId: USER, clientId: 'agent', kdf: WEAK_KDF });
    expect(locked.encrypted).to.equal(true);
    expect(locked.unlocked).to.equal(false);
    const sealed = locked.open(locked.record(id)!);
    expect(sealed.name).to.equal('Mail');
    expect(sealed.unreadable).to.deep.equal(['password']);
    expect(sealed.fields.find((f) => f.name === 'password')!.value).to.not.contain('zebra');
    expect(hits(locked, 'ann@example')).to.deep.equal([id]);
    expect(hits(locked, 'zebra-quartz')).to.deep.equal([]);

    await locked.unlock(SECRET);
    expect(locked.open(locked.record(id)!).fields.find((f) => f.name === 'password')!.value).to.equal('zebra-quartz-41');
    expect(hits(locked, 'zebra-quartz')).to.deep.equal([id]);

    locked.lock();
    expect(locked.unlocked).to.equal(false);
    expect(locked.open(locked.record(id)!).unreadable).to.deep.equal(['password']);
    expect(hits(locked, 'zebra-quartz')).to.deep.equal([]);
    expect(hits(locked, 'ann@example')).to.deep.equal([id]);
  });

  it('from its file: the sealed file waits for the key untouched, the server lists what there is, unlock reads the file', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keeper-locked-'));
    try {
      const place = { home, server: 'memory-log' };
      const { log, id } = await encryptedVault(place);
      const engine = await SyncEngine.open({ ...place, transport: log.transport(), userId: USER, clientId: 'laptop', kdf: WEAK_KDF });
      const before = await readFile(engine.cachePath, 'utf8');
      expect(engine.unlocked).to.equal(false);
      expect(engine.records()).to.deep.equal([]);
      await engine.sync();
      expect(engine.open(engine.record(id)!).unreadable).to.deep.equal(['password']);
      expect(hits(engine, 'ann@example')).to.deep.equal([id]);
      expect(await readFile(engine.cachePath, 'utf8')).to.equal(before);

      await engine.unlock(SECRET);
      expect(engine.open(engine.record(id)!).fields.find((f) => f.name === 'password')!.value).to.equal('zebra-quartz-41');
      await engine.sync();
      expect(engine.version).to.equal(log.events.length);
      expect(await readFile(engine.cachePath, 'utf8')).to.not.contain('zebra');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('from its file: edits made while locked follow the kept ones at unlock, and are pushed', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keeper-locked-'));
    try {
      const place = { home, server: 'memory-log' };
      const { log, id } = await encryptedVault(place);
      const engine = await SyncEngine.open({ ...place, transport: log.transport(), userId: USER, clientId: 'laptop', kdf: WEAK_KDF });
      await engine.sync();
      const note = await engine.create({ kind: 'note', name: 'Groceries', fields: [{ name: 'text', value: 'eggs', sensitive: false }] });
      await engine.update(id, { name: 'Mail (work)' });
      expect(engine.pendingCount).to.equal(2);

      await engine.unlock(SECRET);
      expect(engine.pendingCount).to.equal(2);
      expect(engine.record(note)?.name).to.equal('Groceries');
      expect(engine.record(id)?.name).to.equal('Mail (work)');
      await engine.sync();
      expect(engine.pendingCount).to.equal(0);

      const elsewhere = await SyncEngine.open({ store: new MemoryReplicaStore(), transport: log.transport(), userId: USER, clientId: 'phone', kdf: WEAK_KDF });
      await elsewhere.sync();
      expect(elsewhere.record(note)?.fields).to.deep.equal([{ name: 'text', value: 'eggs', sensitive: false }]);
      expect(elsewhere.record(id)?.name).to.equal('Mail (work)');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('refuses a sealed change while locked, and keeps the record as it was', async () => {
    const store = new MemoryReplicaStore();
    const { log, id } = await encryptedVault({ store });
    const locked = await SyncEngine.open({ store, transport: log.transport(), userId: USER, clientId: 'agent', kdf: WEAK_KDF });
    await locked.update(id, { setFields: [{ name: 'pin', value: '1234', sensitive: true }] }).then(
      () => expect.fail('a sensitive value was taken while locked'),
      (error: unknown) => expect(String(error)).to.match(/locked/),
    );
    expect(locked.pendingCount).to.equal(0);
  });
});
