import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore, MemoryTokenStore } from '../../src/client/token-store.js';
import { openChannelCount } from '../../src/client/grpc-channel.js';
import { VaultHandle } from '../../src/client/core/vault-handle.js';

const PASSWORD = 'correct horse battery';

for (const target of databaseTargets) {
  describe(`many users in one process (${target.name})`, function () {
    let server: TestServer;
    const homes: string[] = [];
    before(async () => {
      server = await startTestServer(target);
    });
    after(async () => {
      await server.close();
      await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
    });

    async function home(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'keeper-shared-'));
      homes.push(dir);
      return dir;
    }

    it('shares one channel among every user of a server, and closes it when the last lets go', async () => {
      const before = openChannelCount();
      const users = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const dir = await home();
          const client = new KeeperClient({ server: server.address, tls: false }, new MemoryTokenStore(), 15_000, `device-${i}`);
          const session = await client.register(`many-${randomUUID().slice(0, 8)}`, PASSWORD);
          return { client, dir, session };
        }),
      );
      expect(openChannelCount()).to.equal(before + 1);
      // Each user writes and syncs over the shared channel and sees only their own records.
      await Promise.all(
        users.map(async ({ client, dir, session }, i) => {
          const handle = await VaultHandle.open({ client, server: server.address, home: dir, userId: session.userId, clientId: `device-${i}` });
          await handle.vault.create({ kind: 'note', name: `note of user ${i}`, fields: [] });
          const outcome = await handle.sync();
          expect(outcome.online).to.equal(true);
          expect(handle.vault.records().map((r) => r.name)).to.deep.equal([`note of user ${i}`]);
        }),
      );
      // One user logging out does not touch the others on the same channel.
      await users[0]!.client.logout();
      expect((await users[1]!.client.status()).version).to.equal(1);
      for (const { client } of users.slice(0, -1)) client.close();
      expect(openChannelCount()).to.equal(before + 1);
      users[users.length - 1]!.client.close();
      expect(openChannelCount()).to.equal(before);
    });

    it('keeps image transfers on a connection of their own, shared by every user too', async () => {
      const before = openChannelCount();
      const dir = await home();
      const picture = join(dir, 'dot.png');
      await writeFile(picture, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123' } }).png().toBuffer());
      const users = await Promise.all(
        [0, 1].map(async (i) => {
          const client = new KeeperClient({ server: server.address, tls: false }, new MemoryTokenStore(), 15_000, `device-${i}`);
          const session = await client.register(`bulk-${randomUUID().slice(0, 8)}`, PASSWORD);
          const handle = await VaultHandle.open({ client, server: server.address, home: dir, userId: session.userId, clientId: `device-${i}` });
          const recordId = await handle.vault.create({ kind: 'note', name: 'with a picture', fields: [] });
          await handle.syncOnline();
          return { client, handle, recordId };
        }),
      );
      expect(openChannelCount()).to.equal(before + 1);
      for (const { handle, recordId } of users) await handle.attachImage({ recordId, path: picture });
      // One data connection and one bulk connection, whatever the number of users.
      expect(openChannelCount()).to.equal(before + 2);
      for (const { handle } of users) expect((await handle.syncOnline()).version).to.be.greaterThan(1);
      for (const { client } of users) client.close();
      expect(openChannelCount()).to.equal(before);
    });

    it('renews an expired access token once for any number of parallel calls of one user', async () => {
      const dir = await home();
      const store = new FileTokenStore(dir, server.address);
      const client = new KeeperClient({ server: server.address, tls: false }, store, 15_000, 'laptop');
      try {
        const session = await client.register(`renew-${randomUUID().slice(0, 8)}`, PASSWORD);
        // As if the access token ran out while the process was away.
        await store.save({ ...session, accessExpiresAt: Date.now() - 1_000 });
        const reopened = new KeeperClient({ server: server.address, tls: false }, store, 15_000, 'laptop');
        let refreshes = 0;
        const grpc = (reopened as unknown as { grpc: { auth: { refresh: (...args: unknown[]) => unknown } } }).grpc;
        const refresh = grpc.auth.refresh.bind(grpc.auth);
        grpc.auth.refresh = (...args: unknown[]) => {
          refreshes++;
          return refresh(...args);
        };
        try {
          const answers = await Promise.all(Array.from({ length: 10 }, () => reopened.status()));
          expect(answers.map((a) => a.version)).to.deep.equal(Array(10).fill(0));
          expect(refreshes).to.equal(1);
          const renewed = await store.load();
          // The refresh token rotates with each refresh (an access token made in the same second may read the same).
          expect(renewed?.refreshToken).to.not.equal(session.refreshToken);
          expect(renewed!.accessExpiresAt).to.be.greaterThan(Date.now());
        } finally {
          grpc.auth.refresh = refresh;
          reopened.close();
        }
      } finally {
        client.close();
      }
    });
  });
}
