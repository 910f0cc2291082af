import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import type { SyncReport } from '../../src/client/sync/sync-protocol.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { commandToMutation } from '../../src/wire/mutations.js';
import { eventFromWire } from '../../src/wire/events.js';
import type { ConflictNotice } from '../../src/domain/rebase.js';
import type { Field, VaultRecord } from '../../src/domain/record.js';
import { VaultState } from '../../src/domain/vault-state.js';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';

const PASSWORD = 'correct horse battery';

interface Device {
  name: string;
  engine: SyncEngine;
  client: KeeperClient;
}

function field(name: string, value: string, sensitive = false): Field {
  return { name, value, sensitive };
}

function byId(records: VaultRecord[]): VaultRecord[] {
  return [...records].sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Three devices of one user over a real gRPC server: each edits offline (no sync between its
 * edits), then they sync in different orders. The server wins per field in the order the pushes
 * land; every losing edit is kept in a conflict copy; after a round everybody has the same vault.
 */
for (const target of databaseTargets) {
  describe(`three devices of one user syncing in different orders (${target.name})`, function () {
    let server: TestServer;
    const homes: string[] = [];
    const clients: KeeperClient[] = [];
    before(async () => {
      server = await startTestServer(target);
    });
    after(async () => {
      for (const client of clients) client.close();
      await server.close();
      await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
    });

    async function user(): Promise<[Device, Device, Device]> {
      const login = `u3-${randomUUID().slice(0, 8)}`;
      const devices: Device[] = [];
      for (const name of ['A', 'B', 'C']) {
        const home = await mkdtemp(join(tmpdir(), 'keeper-3dev-'));
        homes.push(home);
        const client = new KeeperClient({ server: server.address, tls: false }, new FileTokenStore(home, server.address));
        clients.push(client);
        const session = devices.length === 0 ? await client.register(login, PASSWORD) : await client.login(login, PASSWORD);
        const engine = await SyncEngine.open({ transport: grpcVaultTransport(client), server: server.address, home, userId: session.userId, clientId: `device-${name}` });
        devices.push({ name, engine, client });
      }
      return devices as [Device, Device, Device];
    }

    async function syncInOrder(...devices: Device[]): Promise<Map<string, SyncReport>> {
      const reports = new Map<string, SyncReport>();
      for (const device of devices) reports.set(device.name, await device.engine.sync());
      return reports;
    }

    /** The server's log folded from version 1: what every replica must end up with. */
    async function serverState(device: Device): Promise<VaultState> {
      const state = new VaultState();
      await device.client.pull(0, (batch) => {
        for (const wire of batch.events) state.apply(eventFromWire(wire));
      });
      return state;
    }

    /** Every device equal to the others and to a full replay of the server's log, with nothing left to push or pull. */
    async function expectConverged(devices: Device[]): Promise<VaultRecord[]> {
      for (const device of devices) await device.engine.sync();
      const truth = await serverState(devices[0]!);
      for (const device of devices) {
        expect(device.engine.pendingCount, `device ${device.name} has nothing pending`).to.equal(0);
        expect(device.engine.version, `device ${device.name} is at the server's version`).to.equal(truth.version);
        expect(byId(device.engine.records()), `device ${device.name} has the server's records`).to.deep.equal(byId(truth.live()));
        expect(await device.engine.sync()).to.deep.include({ transfer: 'none', pulled: 0, pushed: 0 });
      }
      await server.projected();
      return truth.live();
    }

    function notices(report: SyncReport | undefined): Array<Pick<ConflictNotice, 'kind' | 'parts' | 'recordId'>> {
      return (report?.conflicts ?? []).map(({ kind, parts, recordId }) => ({ kind, parts, recordId }));
    }

    it('merges edits of the same and different records made offline on three devices (A,B,C then C,A,B)', async () => {
      const [a, b, c] = await user();
      const bank = await a.engine.create({ kind: 'login', name: 'Bank', fields: [field('user', 'alice'), field('pin', '1111', true)] });
      const mail = await a.engine.create({ kind: 'login', name: 'Mail', fields: [field('user', 'me')] });
      await syncInOrder(a, b, c);

      // Offline on every device.
      await a.engine.update(bank, { setFields: [field('pin', 'pin-from-A', true)] });
      await a.engine.update(mail, { setFields: [field('url', 'mail.a.example')] });
      const noteA = await a.engine.create({ kind: 'note', name: 'A note', fields: [field('text', 'from A')] });
      await b.engine.update(bank, { setFields: [field('pin', 'pin-from-B', true), field('url', 'bank.b.example')] });
      await b.engine.update(mail, { name: 'Mail (B)' });
      await c.engine.update(bank, { name: 'Bank (C)', setFields: [field('note', 'from C')] });
      await c.engine.delete(mail);

      const first = await syncInOrder(a, b, c);
      expect(notices(first.get('A'))).to.deep.equal([]);
      // B lost the pin to A (first to land) and keeps its version in a copy; its url and rename merge.
      expect(notices(first.get('B'))).to.deep.equal([{ kind: 'edit_lost', parts: ['pin'], recordId: bank }]);
      const copyId = first.get('B')!.conflicts[0]!.copyId!;
      // C's rename and note merge; its delete of a record changed elsewhere is skipped.
      expect(notices(first.get('C'))).to.deep.equal([{ kind: 'delete_skipped', parts: [], recordId: mail }]);

      const second = await syncInOrder(c, a, b);
      for (const report of second.values()) expect(report.conflicts).to.deep.equal([]);
      expect(second.get('B')).to.deep.include({ transfer: 'events', pushed: 0 });

      const records = await expectConverged([a, b, c]);
      const get = (id: string) => records.find((r) => r.id === id)!;
      expect(get(bank)).to.deep.include({ name: 'Bank (C)', kind: 'login' });
      expect(get(bank).fields).to.deep.equal([field('user', 'alice'), field('pin', 'pin-from-A', true), field('url', 'bank.b.example'), field('note', 'from C')]);
      expect(get(mail)).to.deep.include({ name: 'Mail (B)' });
      expect(get(mail).fields).to.deep.equal([field('user', 'me'), field('url', 'mail.a.example')]);
      expect(get(noteA)).to.deep.include({ name: 'A note' });
      // One copy: B's record as B had it before syncing.
      const copies = records.filter((r) => r.conflictOf !== undefined);
      expect(copies.map((r) => r.id)).to.deep.equal([copyId]);
      expect(get(copyId)).to.deep.include({ conflictOf: bank, name: 'Bank', kind: 'login' });
      expect(get(copyId).fields).to.deep.equal([field('user', 'alice'), field('pin', 'pin-from-B', true), field('url', 'bank.b.example')]);
      expect(records).to.have.length(4);
    });

    it('lets the first push win a field changed on all three devices and keeps both losers (C,A,B)', async () => {
      const [a, b, c] = await user();
      const id = await a.engine.create({ kind: 'login', name: 'Shop', fields: [field('password', 'p0', true)] });
      await syncInOrder(a, b, c);
      await a.engine.update(id, { setFields: [field('password', 'p-A', true)] });
      await b.engine.update(id, { setFields: [field('password', 'p-B', true)] });
      await c.engine.update(id, { setFields: [field('password', 'p-C', true)] });

      const reports = await syncInOrder(c, a, b);
      expect(notices(reports.get('C'))).to.deep.equal([]);
      expect(notices(reports.get('A'))).to.deep.equal([{ kind: 'edit_lost', parts: ['password'], recordId: id }]);
      expect(notices(reports.get('B'))).to.deep.equal([{ kind: 'edit_lost', parts: ['password'], recordId: id }]);

      const records = await expectConverged([a, b, c]);
      expect(records.find((r) => r.id === id)!.fields).to.deep.equal([field('password', 'p-C', true)]);
      const copies = records.filter((r) => r.conflictOf === id);
      expect(copies.map((r) => r.fields[0]!.value).sort()).to.deep.equal(['p-A', 'p-B']);
      expect(copies.map((r) => r.id).sort()).to.deep.equal([reports.get('A')!.conflicts[0]!.copyId, reports.get('B')!.conflicts[0]!.copyId].sort());
    });

    it('a delete loses to an edit that landed first, and an edit of a record deleted first is kept as a copy', async () => {
      const [a, b, c] = await user();
      const x = await a.engine.create({ kind: 'note', name: 'X', fields: [field('text', 'x0')] });
      const y = await a.engine.create({ kind: 'note', name: 'Y', fields: [field('text', 'y0')] });
      const z = await a.engine.create({ kind: 'note', name: 'Z', fields: [field('text', 'z0')] });
      await syncInOrder(a, b, c);

      // X: B edits, A deletes; B lands first (B, C, A). Y: A deletes, B edits; A lands first (A, C, B).
      await a.engine.delete(x);
      await b.engine.update(x, { setFields: [field('text', 'x-B')] });
      await c.engine.update(z, { setFields: [field('text', 'z-C')] });
      const round1 = await syncInOrder(b, c, a);
      expect(notices(round1.get('A'))).to.deep.equal([{ kind: 'delete_skipped', parts: [], recordId: x }]);

      await a.engine.delete(y);
      await b.engine.update(y, { name: 'Y (B)', setFields: [field('text', 'y-B')] });
      await c.engine.delete(z);
      const round2 = await syncInOrder(a, c, b);
      expect(notices(round2.get('B'))).to.deep.equal([{ kind: 'edited_deleted_record', parts: [], recordId: y }]);
      const copyOfY = round2.get('B')!.conflicts[0]!.copyId!;

      const records = await expectConverged([a, b, c]);
      expect(records.find((r) => r.id === x)!.fields).to.deep.equal([field('text', 'x-B')]);
      expect(records.find((r) => r.id === y)).to.equal(undefined);
      expect(records.find((r) => r.id === z)).to.equal(undefined);
      expect(records.find((r) => r.id === copyOfY)).to.deep.include({ conflictOf: y, name: 'Y (B)', fields: [field('text', 'y-B')] });
      expect(records).to.have.length(2);
    });

    it('brings a restored record to devices that started from a snapshot taken after its deletion', async () => {
      const [a, b, c] = await user();
      const id = await a.engine.create({ kind: 'note', name: 'Phoenix', fields: [field('text', 'v1')] });
      await a.engine.sync();
      await a.engine.delete(id);
      await a.engine.sync();
      // B and C start from List, which holds no deleted records.
      await syncInOrder(b, c);
      expect(b.engine.record(id)).to.equal(undefined);

      await a.engine.restore(id, 1);
      await a.engine.sync();
      await syncInOrder(c, b);
      for (const device of [b, c]) expect(device.engine.record(id), `device ${device.name}`).to.deep.include({ name: 'Phoenix', fields: [field('text', 'v1')] });
      await expectConverged([a, b, c]);
    });

    it('keeps an offline edit made after a push whose answer was lost, when another device changed the same field', async () => {
      const [a, b, c] = await user();
      await syncInOrder(a, b, c);
      const id = await a.engine.create({ kind: 'login', name: 'Router', fields: [field('password', 'r0', true)] });
      // The push lands, but A never hears back.
      await a.client.push({ expectedVersion: a.engine.version, clientId: 'device-A', mutations: a.engine.pendingCommands.map(commandToMutation) });
      await a.engine.update(id, { setFields: [field('password', 'r-A', true)] });
      await b.engine.sync();
      await b.engine.update(id, { setFields: [field('password', 'r-B', true)] });
      await c.engine.sync();
      await c.engine.update(id, { name: 'Router (C)' });
      await syncInOrder(b, c);

      const report = await a.engine.sync();
      expect(notices(report)).to.deep.equal([{ kind: 'edit_lost', parts: ['password'], recordId: id }]);
      expect(report.conflicts[0]!.copyId, 'a copy keeps the lost edit').to.be.a('string');
      const records = await expectConverged([a, b, c]);
      expect(records.filter((r) => r.name.startsWith('Router')).length).to.equal(2);
      expect(records.find((r) => r.id === id)).to.deep.include({ name: 'Router (C)', fields: [field('password', 'r-B', true)] });
      expect(records.find((r) => r.id === report.conflicts[0]!.copyId)).to.deep.include({ conflictOf: id, name: 'Router', fields: [field('password', 'r-A', true)] });
    });
  });
}
