import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { VaultLocked } from '../../src/client/sync/key-ring.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { WrongSecretWord } from '../../src/client/crypto/index.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { uploadImage } from '../../src/client/images/image-transfer.js';
import sharp from 'sharp';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';

const PASSWORD = 'correct horse battery';
const WEAK_KDF = { allowWeakForTests: true, cost: { N: 2 ** 10 } };

interface Device {
  engine: SyncEngine;
  client: KeeperClient;
  home: string;
  reopen(options?: { askSecret?: () => Promise<string> }): Promise<SyncEngine>;
}

for (const target of databaseTargets) {
  describe(`sync engine over gRPC (${target.name})`, function () {
    let server: TestServer;
    const homes: string[] = [];
    before(async () => {
      server = await startTestServer(target);
    });
    after(async () => {
      await server.close();
      await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
    });

    /** A user with `count` devices (clients with their own home directory and cache). */
    async function user(count: number, askSecret?: () => Promise<string>): Promise<Device[]> {
      const login = `u-${randomUUID().slice(0, 8)}`;
      const devices: Device[] = [];
      for (let i = 0; i < count; i++) {
        const home = await mkdtemp(join(tmpdir(), 'keeper-sync-'));
        homes.push(home);
        const client = new KeeperClient({ server: server.address, tls: false }, new FileTokenStore(home, server.address));
        const session = i === 0 ? await client.register(login, PASSWORD) : await client.login(login, PASSWORD);
        const open = (options: { askSecret?: () => Promise<string> } = {}) =>
          SyncEngine.open({
            transport: grpcVaultTransport(client),
            server: server.address,
            home,
            userId: session.userId,
            clientId: `device-${i}`,
            kdf: WEAK_KDF,
            ...(options.askSecret ?? askSecret ? { askSecret: options.askSecret ?? askSecret } : {}),
          });
        const device: Device = { engine: await open(), client, home, reopen: open };
        devices.push(device);
      }
      return devices;
    }

    it('syncs a new record to a second device, and transfers nothing when versions agree', async () => {
      const [a, b] = await user(2);
      const id = await a!.engine.create({ kind: 'login', name: 'Mail', fields: [{ name: 'user', value: 'me', sensitive: false }] });
      const pushed = await a!.engine.sync();
      expect(pushed).to.include({ pushed: 1, version: 1 });
      const pulled = await b!.engine.sync();
      expect(pulled.transfer).to.equal('snapshot');
      expect(b!.engine.record(id)).to.include({ name: 'Mail', version: 1 });
      const again = await b!.engine.sync();
      expect(again).to.deep.include({ transfer: 'none', pulled: 0, pushed: 0, version: 1 });
    });

    it('rebases offline edits: different fields merge, the same field goes to the server and the loser to a conflict copy', async () => {
      const [a, b] = await user(2);
      const id = await a!.engine.create({
        kind: 'login',
        name: 'Bank',
        fields: [
          { name: 'user', value: 'alice', sensitive: false },
          { name: 'pin', value: '1111', sensitive: true },
        ],
      });
      await a!.engine.sync();
      await b!.engine.sync();

      await a!.engine.update(id, { setFields: [{ name: 'pin', value: '2222', sensitive: true }] });
      await b!.engine.update(id, { setFields: [{ name: 'pin', value: '3333', sensitive: true }, { name: 'url', value: 'bank.example', sensitive: false }] });
      await a!.engine.sync();
      const report = await b!.engine.sync();

      expect(report.conflicts).to.have.length(1);
      expect(report.conflicts[0]).to.include({ recordId: id, kind: 'edit_lost' });
      expect(report.conflicts[0]!.parts).to.deep.equal(['pin']);
      const merged = b!.engine.record(id)!;
      expect(merged.fields).to.deep.equal([
        { name: 'user', value: 'alice', sensitive: false },
        { name: 'pin', value: '2222', sensitive: true },
        { name: 'url', value: 'bank.example', sensitive: false },
      ]);
      const copy = b!.engine.record(report.conflicts[0]!.copyId!)!;
      expect(copy.conflictOf).to.equal(id);
      expect(copy.fields.find((f) => f.name === 'pin')!.value).to.equal('3333');

      await a!.engine.sync();
      expect(a!.engine.records().map((r) => r.id).sort()).to.deep.equal(b!.engine.records().map((r) => r.id).sort());
      expect(a!.engine.record(id)).to.deep.equal(b!.engine.record(id));
    });

    it('keeps offline edits across a restart and pushes them when the server is back', async () => {
      const [a] = await user(1);
      await a!.engine.sync();
      const id = await a!.engine.create({ kind: 'note', name: 'Offline note', fields: [] });
      // A fresh process on the same cache (no sync in between) still has the pending edit.
      const reopened = await a!.reopen();
      expect(reopened.pendingCount).to.equal(1);
      expect(reopened.record(id)?.name).to.equal('Offline note');

      const down = new KeeperClient({ server: '127.0.0.1:9', tls: false }, new FileTokenStore(a!.home, server.address), 2000);
      const offline = await SyncEngine.open({ transport: grpcVaultTransport(down), server: server.address, home: a!.home, userId: (await a!.client.currentSession())!.userId, clientId: 'x' });
      let failed = false;
      try {
        await offline.sync();
      } catch {
        failed = true;
      }
      down.close();
      expect(failed).to.equal(true);
      expect((await a!.reopen()).pendingCount).to.equal(1);

      const back = await a!.reopen();
      expect(await back.sync()).to.include({ pushed: 1, version: 1 });
      expect(back.pendingCount).to.equal(0);
    });

    it('never duplicates a push whose answer was lost', async () => {
      const [a, b] = await user(2);
      await a!.engine.sync();
      await a!.engine.create({ kind: 'note', name: 'once', fields: [] });
      // The push lands but the client never hears back: replay it by hand, then sync as usual.
      const { commandToMutation } = await import('../../src/wire/mutations.js');
      await a!.client.push({ expectedVersion: 0, clientId: 'lost', mutations: a!.engine.pendingCommands.map(commandToMutation) });
      const report = await a!.engine.sync();
      expect(report.version).to.equal(1);
      expect(a!.engine.pendingCount).to.equal(0);
      await b!.engine.sync();
      expect(b!.engine.records().filter((r) => r.name === 'once')).to.have.length(1);
    });

    it('restores an earlier version and a deleted record from history', async () => {
      const [a] = await user(1);
      const id = await a!.engine.create({ kind: 'note', name: 'v1', fields: [{ name: 'text', value: 'first', sensitive: false }] });
      await a!.engine.sync();
      await a!.engine.update(id, { name: 'v2', setFields: [{ name: 'text', value: 'second', sensitive: false }] });
      await a!.engine.sync();
      const history = await a!.engine.history(id);
      expect(history.map((h) => [h.version, h.type, h.state.name])).to.deep.equal([
        [1, 'RecordCreated', 'v1'],
        [2, 'RecordUpdated', 'v2'],
      ]);
      await a!.engine.restore(id, 1);
      await a!.engine.sync();
      expect(a!.engine.record(id)).to.include({ name: 'v1' });
      expect(a!.engine.record(id)!.fields).to.deep.equal([{ name: 'text', value: 'first', sensitive: false }]);

      await a!.engine.delete(id);
      await a!.engine.sync();
      expect(a!.engine.record(id)).to.equal(undefined);
      const deleted = await a!.engine.deletedRecords();
      expect(deleted.map((r) => r.id)).to.deep.equal([id]);
      await a!.engine.restore(id, 3);
      await a!.engine.sync();
      expect(a!.engine.record(id)).to.include({ name: 'v1' });
      expect((await a!.engine.history(id)).map((h) => h.type)).to.deep.equal(['RecordCreated', 'RecordUpdated', 'RecordRestored', 'RecordDeleted', 'RecordRestored']);
    });

    it("keeps a record's images in the replica: with the snapshot, through pulls and the cache, and back with a restored record", async () => {
      const [a, b] = await user(2);
      const id = await a!.engine.create({ kind: 'note', name: 'with pictures', fields: [] });
      await a!.engine.sync();
      const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#a52' } }).png().toBuffer();
      const file = join(a!.home, 'pic.png');
      await writeFile(file, png);
      const uploaded = await uploadImage(a!.client, { recordId: id, path: file });
      const imageId = uploaded.image!.id;
      await a!.engine.sync();
      expect(a!.engine.imagesOf(id).map((image) => image.id)).to.deep.equal([imageId]);

      // A fresh device gets the image with the snapshot; the cache keeps it across a restart.
      await server.projected();
      await b!.engine.sync();
      expect(b!.engine.imagesOf(id).map((image) => [image.id, image.fileName])).to.deep.equal([[imageId, 'pic.png']]);
      await b!.engine.linkImageFile(imageId, 'original', '/somewhere/pic.png');
      const reopened = await b!.reopen();
      expect(reopened.imagesOf(id).map((image) => image.id)).to.deep.equal([imageId]);
      expect(reopened.imageFilesOf(imageId)).to.deep.equal({ original: '/somewhere/pic.png' });

      // Deleted, a record's images are gone from view; a device that starts after that gets a
      // snapshot without them, and they come back with the restored record.
      await a!.engine.delete(id);
      await a!.engine.sync();
      expect(a!.engine.image(imageId)).to.equal(undefined);
      await server.projected();
      const late = await b!.reopen();
      await rm(late.cachePath, { force: true });
      const cold = await b!.reopen();
      await cold.sync();
      expect(cold.imagesOf(id)).to.deep.equal([]);
      await a!.engine.restore(id, 1);
      await a!.engine.sync();
      await cold.sync();
      expect(cold.record(id)).to.include({ name: 'with pictures' });
      expect(cold.imagesOf(id).map((image) => image.id)).to.deep.equal([imageId]);
    });

    it('sets a corrupted or truncated cache aside and rebuilds it from the server', async () => {
      const [a] = await user(1);
      await a!.engine.create({ kind: 'note', name: 'kept on server', fields: [] });
      await a!.engine.sync();
      const path = a!.engine.cachePath;
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.slice(0, text.length / 2));
      const rebuilt = await a!.reopen();
      expect(rebuilt.notices[0]).to.match(/local cache was unreadable .* moved to .* rebuilt from the server/);
      expect(rebuilt.records()).to.deep.equal([]);
      await rebuilt.sync();
      expect(rebuilt.records().map((r) => r.name)).to.deep.equal(['kept on server']);

      // A flipped byte inside the body is caught by the checksum too.
      const good = JSON.parse(await readFile(path, 'utf8'));
      const body = Buffer.from(good.body, 'base64');
      body[body.length - 3] = body[body.length - 3]! ^ 0x01;
      await writeFile(path, JSON.stringify({ ...good, body: body.toString('base64') }));
      const again = await a!.reopen();
      expect(again.notices).to.have.length(1);
      const files = await readdir(join(a!.home, 'cache'));
      expect(files.filter((f) => f.includes('.corrupt-'))).to.have.length(2);
    });

    it('encrypts: sensitive values sealed on the server, a wrong secret word changes nothing, the right one unlocks', async () => {
      const secret = 'purple elephant';
      const [a, b] = await user(2);
      const id = await a!.engine.create({ kind: 'login', name: 'Shop', fields: [{ name: 'password', value: 'before-encryption', sensitive: true }] });
      await a!.engine.sync();
      const { resealed } = await a!.engine.enableEncryption(secret);
      expect(resealed).to.equal(1);
      const id2 = await a!.engine.create({ kind: 'card', name: 'Visa', fields: [{ name: 'number', value: '4111-plain-card', sensitive: true }, { name: 'holder', value: 'Alice', sensitive: false }] });
      await a!.engine.sync();
      expect(a!.engine.open(a!.engine.record(id2)!).fields[0]!.value).to.equal('4111-plain-card');

      // Nothing on the server can read the new sensitive value.
      const rows = await server.db.query<{ data: unknown }>(`SELECT data FROM events`);
      expect(JSON.stringify(rows)).to.not.contain('4111-plain-card');
      const rm = await server.db.query<{ fields: unknown }>(`SELECT fields FROM rm_records`);
      expect(JSON.stringify(rm)).to.not.contain('4111-plain-card');
      expect(JSON.stringify(rm)).to.not.contain('before-encryption');

      // Another device: a wrong word is refused and changes nothing; the right one unlocks.
      let asked = 0;
      const wrong = b!.reopen({ askSecret: async () => (++asked, 'not it') });
      const fresh = await wrong;
      let error: unknown;
      try {
        await fresh.sync();
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(WrongSecretWord);
      expect(asked).to.equal(1);
      const right = await b!.reopen({ askSecret: async () => secret });
      await right.sync();
      expect(right.open(right.record(id)!).fields[0]!.value).to.equal('before-encryption');
      const cacheText = await readFile(right.cachePath, 'utf8');
      expect(cacheText).to.not.contain('Visa');
      expect(JSON.parse(cacheText).encrypted).to.equal(true);

      // Reopening the encrypted cache asks again; a wrong word fails and leaves the file intact.
      let reopenError: unknown;
      try {
        await b!.reopen({ askSecret: async () => 'still not it' });
      } catch (e) {
        reopenError = e;
      }
      expect(reopenError).to.be.instanceOf(WrongSecretWord);
      expect(await readFile(right.cachePath, 'utf8')).to.equal(cacheText);

      const locked = await b!.reopen({ askSecret: async () => secret });
      locked.lock();
      let lockedError: unknown;
      try {
        await locked.create({ kind: 'login', name: 'x', fields: [{ name: 'p', value: 'q', sensitive: true }] });
      } catch (e) {
        lockedError = e;
      }
      expect(lockedError).to.be.instanceOf(VaultLocked);
    });

    it('encryption turned on elsewhere: a wrong word leaves the open replica as it was and the next sync asks again', async () => {
      const secret = 'amber quarry lantern';
      const answers = ['not it', secret];
      let asked = 0;
      const [a, b] = await user(2);
      const id = await a!.engine.create({ kind: 'login', name: 'Shop', fields: [{ name: 'password', value: 'p1', sensitive: true }] });
      await a!.engine.sync();
      const device = await b!.reopen({ askSecret: async () => answers[asked++]! });
      await device.sync();
      const before = device.version;
      await device.update(id, { setFields: [{ name: 'user', value: 'bee', sensitive: false }] });
      await a!.engine.enableEncryption(secret);

      let error: unknown;
      try {
        await device.sync();
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(WrongSecretWord);
      expect(asked).to.equal(1);
      // Nothing of the pull was taken: the replica neither pretends to be encrypted nor skips the events.
      expect(device.version).to.equal(before);
      expect(device.encrypted).to.equal(false);
      expect(device.pendingCount).to.equal(1);

      const report = await device.sync();
      expect(asked).to.equal(2);
      expect(device.encrypted && device.unlocked).to.equal(true);
      expect(report.pushed).to.equal(1);
      const opened = device.open(device.record(id)!);
      expect(opened.fields.map((f) => [f.name, f.value])).to.deep.equal([
        ['password', 'p1'],
        ['user', 'bee'],
      ]);
      expect(opened.unreadable).to.deep.equal([]);
    });

    it('two devices turning encryption on at once: one key wins, the other seals nothing and unlocks with the winning word', async () => {
      const [a, b] = await user(2);
      const id = await a!.engine.create({ kind: 'login', name: 'Shared', fields: [{ name: 'password', value: 'raced-value', sensitive: true }] });
      await a!.engine.sync();
      await b!.engine.sync();
      const words = ['word of device a', 'word of device b'];
      const outcomes = await Promise.allSettled([a!.engine.enableEncryption(words[0]!), b!.engine.enableEncryption(words[1]!)]);
      const winner = outcomes.findIndex((outcome) => outcome.status === 'fulfilled');
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled'), 'exactly one device turned encryption on').to.have.length(1);
      const lost = outcomes[1 - winner] as PromiseRejectedResult;
      expect((lost.reason as Error).message).to.match(/turned on from another device at the same time: nothing was changed here|already encrypted/);

      // The stream holds one key, and the one reseal of the record, made under that key.
      const { userId } = (await a!.client.currentSession())!;
      const events = await server.db.query<{ type: string; data: { keyId?: string; recordId?: string } }>(
        `SELECT type, data FROM events WHERE stream_id = $1 ORDER BY version`,
        [streamIdForUser(userId)],
      );
      expect(events.filter((e) => e.type === 'VaultKeySet')).to.have.length(1);
      expect(events.filter((e) => e.type === 'RecordUpdated' && e.data.recordId === id)).to.have.length(1);
      // (The RecordCreated before encryption keeps its plain value: old events are never rewritten.)
      const sinceKey = events.slice(events.findIndex((e) => e.type === 'VaultKeySet'));
      expect(JSON.stringify(sinceKey)).to.not.contain('raced-value');

      // The losing device opens the vault with the winning word, and only with it.
      const loser = [a, b][1 - winner]!;
      let refused: unknown;
      try {
        await (await loser.reopen({ askSecret: async () => words[1 - winner]! })).sync();
      } catch (error) {
        refused = error;
      }
      expect(refused).to.be.instanceOf(WrongSecretWord);
      const unlocked = await loser.reopen({ askSecret: async () => words[winner]! });
      await unlocked.sync();
      expect(unlocked.open(unlocked.record(id)!).fields[0]!.value).to.equal('raced-value');
    });
  });
}
