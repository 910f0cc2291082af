import { expect } from 'chai';
import { MemoryReplicaStore } from '../../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../../src/client/sync/sync-engine.js';
import type { VaultTransport } from '../../../src/client/sync/transport.js';
import { MemoryLog } from '../../support/memory-transport.js';

const USER = '00000000-0000-4000-8000-000000000001';

/**
 * Sync and rebase over an in-memory log: the same engine the faces use, no server, no database.
 * (The gRPC suites in test/client run the same engine against a real server.)
 */
describe('sync over an in-memory log', () => {
  function device(log: MemoryLog, name: string, transport: VaultTransport = log.transport(), store = new MemoryReplicaStore()): Promise<SyncEngine> {
    return SyncEngine.open({ transport, store, userId: USER, clientId: name });
  }

  function names(engine: SyncEngine): string[] {
    return engine.records().map((r) => r.name).sort();
  }

  it('starts a new device from the snapshot, then only asks the status while nothing changed', async () => {
    const log = new MemoryLog();
    const laptop = await device(log, 'laptop');
    for (const name of ['Mail', 'Bank', 'Diary']) await laptop.create({ kind: 'note', name, fields: [] });
    expect((await laptop.sync()).pushed).to.equal(3);
    const phone = await device(log, 'phone');
    const first = await phone.sync();
    expect(first.transfer).to.equal('snapshot');
    expect(names(phone)).to.deep.equal(['Bank', 'Diary', 'Mail']);
    const calls = { ...log.calls };
    const again = await phone.sync();
    expect(again.transfer).to.equal('none');
    expect(log.calls).to.deep.equal({ ...calls, status: calls.status + 1 });
  });

  it('rebases an edit made against an older version: the server wins the field, the losing value is kept in a conflict copy', async () => {
    const log = new MemoryLog();
    const laptop = await device(log, 'laptop');
    const id = await laptop.create({ kind: 'login', name: 'Mail', fields: [{ name: 'user', value: 'ann', sensitive: false }] });
    await laptop.sync();
    const phone = await device(log, 'phone');
    await phone.sync();
    await laptop.update(id, { setFields: [{ name: 'user', value: 'ann-laptop', sensitive: false }] });
    await laptop.sync();
    await phone.update(id, { setFields: [{ name: 'user', value: 'ann-phone', sensitive: false }] });
    const report = await phone.sync();
    expect(report.conflicts.map((c) => c.kind)).to.deep.equal(['edit_lost']);
    const copyId = report.conflicts[0]!.copyId!;
    expect(phone.record(id)!.fields[0]!.value).to.equal('ann-laptop');
    expect(phone.record(copyId)!.fields[0]!.value).to.equal('ann-phone');
    expect(phone.record(copyId)!.conflictOf).to.equal(id);
    await laptop.sync();
    expect(laptop.records()).to.deep.equal(phone.records());
    expect(laptop.version).to.equal(log.events.length);
  });

  it('keeps an edit of a record deleted elsewhere as a conflict copy', async () => {
    const log = new MemoryLog();
    const laptop = await device(log, 'laptop');
    const id = await laptop.create({ kind: 'note', name: 'Diary', fields: [{ name: 'text', value: 'day one', sensitive: false }] });
    await laptop.sync();
    const phone = await device(log, 'phone');
    await phone.sync();
    await laptop.delete(id);
    await laptop.sync();
    await phone.update(id, { setFields: [{ name: 'text', value: 'day two', sensitive: false }] });
    const report = await phone.sync();
    expect(report.conflicts.map((c) => c.kind)).to.deep.equal(['edited_deleted_record']);
    expect(phone.record(id)).to.equal(undefined);
    expect(phone.records().map((r) => r.fields[0]!.value)).to.deep.equal(['day two']);
  });

  it('lands a push once when its answer was lost and the sync is retried', async () => {
    const log = new MemoryLog();
    const inner = log.transport();
    let loseNext = true;
    const lossy: VaultTransport = {
      ...inner,
      async push(batch) {
        const outcome = await inner.push(batch);
        if (loseNext) {
          loseNext = false;
          throw new Error('the connection dropped before the answer came back');
        }
        return outcome;
      },
    };
    const laptop = await device(log, 'laptop', lossy);
    await laptop.create({ kind: 'note', name: 'Once', fields: [] });
    let failed: unknown;
    await laptop.sync().catch((error: unknown) => (failed = error));
    expect(failed).to.be.instanceOf(Error);
    expect(laptop.pendingCount).to.equal(1);
    await laptop.sync();
    expect(laptop.pendingCount).to.equal(0);
    expect(log.events.map((e) => e.type)).to.deep.equal(['RecordCreated']);
    expect(names(laptop)).to.deep.equal(['Once']);
  });

  it('keeps edits made while the server is unreachable and pushes them when it is back', async () => {
    const log = new MemoryLog();
    const laptop = await device(log, 'laptop');
    log.down = new Error('unreachable');
    await laptop.create({ kind: 'note', name: 'Offline note', fields: [] });
    await laptop.sync().then(
      () => expect.fail('the sync should have failed'),
      (error: unknown) => expect(error).to.equal(log.down),
    );
    expect(laptop.pendingCount).to.equal(1);
    log.down = undefined;
    expect((await laptop.sync()).pushed).to.equal(1);
    expect(log.events).to.have.length(1);
  });

  it('rebuilds the replica from a server that is behind it (restored from a backup): the server has priority', async () => {
    const log = new MemoryLog();
    const laptop = await device(log, 'laptop');
    await laptop.create({ kind: 'note', name: 'Kept', fields: [] });
    await laptop.sync();
    await laptop.create({ kind: 'note', name: 'Lost with the backup', fields: [] });
    await laptop.sync();
    log.truncate(1);
    const report = await laptop.sync();
    expect(report.transfer).to.equal('snapshot');
    expect(names(laptop)).to.deep.equal(['Kept']);
    expect(laptop.version).to.equal(1);
    expect(laptop.notices.join(' ')).to.match(/behind this client's 2/);
  });

  it('keeps the replica and its waiting edits in the store across a reopen, with no server in reach', async () => {
    const log = new MemoryLog();
    const store = new MemoryReplicaStore();
    const laptop = await device(log, 'laptop', log.transport(), store);
    await laptop.create({ kind: 'note', name: 'Synced', fields: [] });
    await laptop.sync();
    log.down = new Error('unreachable');
    await laptop.create({ kind: 'note', name: 'Waiting', fields: [] });
    const reopened = await device(log, 'laptop', log.transport(), store);
    expect(reopened.cachePath).to.equal('memory');
    expect(names(reopened)).to.deep.equal(['Synced', 'Waiting']);
    expect(reopened.pendingCount).to.equal(1);
    expect(reopened.version).to.equal(1);
    log.down = undefined;
    await reopened.sync();
    expect(log.events.map((e) => e.data)).to.have.length(2);
  });

  it('converges three devices editing different records at once', async () => {
    const log = new MemoryLog();
    const devices = await Promise.all(['a', 'b', 'c'].map((name) => device(log, name)));
    for (const [i, engine] of devices.entries()) for (let n = 0; n < 5; n++) await engine.create({ kind: 'note', name: `${i}-${n}`, fields: [] });
    for (let round = 0; round < 2; round++) for (const engine of devices) await engine.sync();
    const expected = names(devices[0]!);
    expect(expected).to.have.length(15);
    for (const engine of devices) {
      expect(names(engine)).to.deep.equal(expected);
      expect(engine.version).to.equal(15);
    }
  });
});
