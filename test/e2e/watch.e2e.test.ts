import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { status, type ServiceError } from '@grpc/grpc-js';
import { databaseTargets, type DatabaseTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/eventually.js';
import { PASSWORD, pushNote, watching } from '../support/watching.js';
import { RawGrpcClient } from '../support/raw-grpc.js';
import { NotLoggedIn, KeeperClient } from '../../src/client/keeper-client.js';
import { bearer, openClients } from '../../src/client/grpc-channel.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { WatchRequest, type WatchResponse } from '../../src/gen/keeper/v1/vault.js';
import { defaultImageParts, startServer, type RunningApp } from '../../src/composition/server-app.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { createLogger } from '../../src/logging.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { VaultService } from '../../src/server/vault/vault-service.js';
import { InProcessVersionNotifier } from '../../src/server/watch/in-process-notifier.js';

/** Lets whatever is already on its way arrive, so a test can say nothing else did. */
const settle = (ms = 200) => new Promise((resolve) => setTimeout(resolve, ms));

for (const target of databaseTargets) {
  describe(`Watch over gRPC (${target.name})`, function () {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(async () => server?.close());

    async function registered(login = `watch-${randomUUID().slice(0, 8)}`): Promise<KeeperClient> {
      const client = await server.client();
      await client.register(login, PASSWORD);
      return client;
    }

    it('tells a watcher the current version at once, and a push from another device within a second', async () => {
      const login = `watch-${randomUUID().slice(0, 8)}`;
      const laptop = await registered(login);
      await pushNote(laptop, 0);
      const status = await laptop.status();
      const watch = watching(laptop);
      try {
        expect(await watch.reaches(1)).to.deep.equal({ version: 1, lastModifiedAt: status.lastModifiedAt });
        const phone = await server.client();
        await phone.login(login, PASSWORD);
        const pushedAt = Date.now();
        await pushNote(phone, 1);
        const told = await watch.reaches(2, 1_000);
        expect(Date.now() - pushedAt).to.be.lessThan(1_000);
        expect(told.version).to.equal(2);
        expect(told.lastModifiedAt).to.equal((await laptop.status()).lastModifiedAt);
        expect(watch.seen.map((seen) => seen.version)).to.deep.equal([1, 2]);
        expect(watch.errors).to.deep.equal([]);
      } finally {
        watch.close();
      }
    });

    it("never tells a user of another user's changes", async () => {
      const [one, two] = [await registered(), await registered()];
      const [watchOne, watchTwo] = [watching(one), watching(two)];
      try {
        await watchOne.reaches(0);
        await watchTwo.reaches(0);
        await pushNote(two, 0);
        await pushNote(two, 1);
        await watchTwo.reaches(2, 1_000);
        await settle();
        expect(watchOne.seen).to.deep.equal([{ version: 0, lastModifiedAt: 0 }]);
      } finally {
        watchOne.close();
        watchTwo.close();
      }
    });

    it('refuses a watch without a valid access token with UNAUTHENTICATED, at once', async () => {
      const raw = new RawGrpcClient(server.address);
      try {
        const request = Buffer.from(WatchRequest.encode({ sinceVersion: 0 }).finish());
        for (const token of [undefined, 'not-a-token', `v4.public.${'A'.repeat(120)}`]) {
          const outcome = await raw.call('/keeper.v1.VaultService/Watch', 'serverStream', [request], token, 5_000);
          expect([outcome.code, outcome.messages.length], String(token)).to.deep.equal([status.UNAUTHENTICATED, 0]);
        }
      } finally {
        raw.close();
      }
      // The client says so without calling: nobody is logged in.
      const nobody = await server.client();
      const watch = watching(nobody);
      await eventually('the refusal', () => watch.errors[0]);
      expect(watch.errors[0]).to.be.instanceOf(NotLoggedIn);
      expect(watch.seen).to.deep.equal([]);
    });

    it('stops telling a session that ended: the watch gives up with NotLoggedIn', async () => {
      const login = `watch-${randomUUID().slice(0, 8)}`;
      const laptop = await registered(login);
      const phone = await server.client();
      await phone.login(login, PASSWORD);
      const watch = watching(laptop);
      try {
        await watch.reaches(0);
        const laptopSession = (await phone.listSessions()).find((session) => !session.current)!;
        expect(await phone.revokeSessions({ sessionId: laptopSession.sessionId })).to.equal(1);
        await pushNote(phone, 0);
        await eventually('the watch to give up', () => watch.errors[0], 5_000);
        expect(watch.errors[0]).to.be.instanceOf(NotLoggedIn);
        expect(watch.seen.map((seen) => seen.version)).to.deep.equal([0]);
      } finally {
        watch.close();
      }
    });

    it('ends watch streams when the server stops, without holding the stop up', async () => {
      const own = await startTestServer(target);
      const grpc = openClients({ server: own.address, tls: false });
      try {
        const client = await own.client();
        const session = await client.register(`watch-${randomUUID().slice(0, 8)}`, PASSWORD);
        const streams = [0, 1, 2].map(() => grpc.vault.watch({ sinceVersion: 0 }, bearer(session.accessToken)));
        const received = streams.map(() => [] as WatchResponse[]);
        const outcomes = streams.map(
          (stream, index) =>
            new Promise<{ messages: WatchResponse[]; code: number; details: string }>((resolve) => {
              const messages = received[index]!;
              stream.on('data', (message: WatchResponse) => messages.push(message));
              stream.on('error', (error: ServiceError) => resolve({ messages, code: error.code, details: error.details }));
              stream.on('end', () => resolve({ messages, code: status.OK, details: '' }));
            }),
        );
        // Open, and past their first message: from here on a watch only waits.
        await eventually('three open watches', () => (received.every((messages) => messages.length === 1) ? true : undefined));
        expect(own.app.watches.size).to.equal(3);
        const started = Date.now();
        await own.app.stop();
        // Without the drain, the server would wait for its forced shutdown (5 s) or longer.
        expect(Date.now() - started, 'ms to stop').to.be.lessThan(2_500);
        for (const outcome of await Promise.all(outcomes)) {
          expect(outcome).to.deep.equal({ messages: [{ version: 0, lastModifiedAt: 0 }], code: status.UNAVAILABLE, details: 'the server is stopping; watch again' });
        }
      } finally {
        grpc.close();
        await own.close();
      }
    });

    it('lets a watch go when its caller cancels it', async () => {
      const client = await registered();
      const before = server.app.watches.size;
      const watch = watching(client);
      await watch.reaches(0);
      expect(server.app.watches.size).to.equal(before + 1);
      watch.close();
      await eventually('the server to let the watch go', () => (server.app.watches.size === before ? true : undefined));
    });
  });

  describe(`Watch across a server restart (${target.name})`, function () {
    it('comes back by itself, learns the version it missed at once, and keeps following', async () => {
      const run = await restartable(target);
      const client = new KeeperClient({ server: run.address, tls: false }, new MemoryTokenStore(), 5_000);
      const session = await client.register(`watch-${randomUUID().slice(0, 8)}`, PASSWORD);
      const watch = watching(client);
      try {
        await watch.reaches(0);
        await run.stop();
        await eventually('the watch to try again', () => (watch.retries.length > 0 ? true : undefined), 5_000);
        // A change the watcher cannot be told of while the server is down.
        await run.pushBehind(session.userId);
        await run.start();
        expect((await watch.reaches(1, 15_000)).version).to.equal(1);
        await pushNote(client, 1);
        expect((await watch.reaches(2, 1_000)).version).to.equal(2);
        expect(watch.errors).to.deep.equal([]);
        expect(watch.retries.every((error) => (error as ServiceError).code === status.UNAVAILABLE)).to.equal(true);
      } finally {
        watch.close();
        client.close();
        await run.dispose();
      }
    });
  });

  describe(`Watch with short-lived access tokens (${target.name})`, function () {
    let server: TestServer;
    before(async () => {
      // Two seconds, not one: a token's life starts at the whole second before it was issued, so a
      // one-second token renewed late in a second could expire before the reopened call is checked.
      server = await startTestServer(target, { accessTtlSeconds: 2 });
    });
    after(async () => server?.close());

    it('refreshes the token once when the server ends the watch UNAUTHENTICATED, and goes on', async () => {
      const login = `watch-${randomUUID().slice(0, 8)}`;
      const laptop = await server.client();
      await laptop.register(login, PASSWORD);
      const phone = await server.client();
      await phone.login(login, PASSWORD);
      const watch = watching(laptop);
      try {
        await watch.reaches(0);
        const opened = (await laptop.currentSession())!.accessToken;
        // Past the token's expiry (whole seconds): the server checks it again before telling.
        await new Promise((resolve) => setTimeout(resolve, 3_100));
        await pushNote(phone, 0);
        expect((await watch.reaches(1, 3_000)).version).to.equal(1);
        expect((await laptop.currentSession())!.accessToken).to.not.equal(opened);
        expect(watch.errors).to.deep.equal([]);
        expect(watch.retries, 'a refresh is no failure to wait after').to.deep.equal([]);
      } finally {
        watch.close();
      }
    });
  });
}

/**
 * A server that can be stopped and started again on the same port, database and token key (a
 * restart, as clients see it); `pushBehind` appends to a user's stream without any server.
 */
async function restartable(target: DatabaseTarget) {
  const db = await target.open();
  const blobDir = await mkdtemp(join(tmpdir(), 'keeper-blobs-'));
  const tokenKey = await TokenIssuer.generateSecretKey();
  const logger = createLogger('silent', 'test');
  let port = 0;
  let app: RunningApp | undefined;
  const start = async () => {
    app = await startServer(
      db,
      { host: '127.0.0.1', port, maxMessageBytes: 4 * 1024 * 1024, tokenKey, auth: { bcryptCost: 10 }, inlineProjector: true, projectorPollMs: 20, images: defaultImageParts(blobDir), notifier: new InProcessVersionNotifier() },
      logger,
    );
    port = app.grpc.port;
  };
  await start();
  return {
    address: `127.0.0.1:${port}`,
    start,
    async stop() {
      await app?.stop();
      app = undefined;
    },
    async pushBehind(userId: string) {
      const vault = new VaultService(db, new SqlEventStore(db));
      const create = { type: 'CreateRecord' as const, mutationId: randomUUID(), recordId: randomUUID(), kind: 'note' as const, name: 'made while the server was down', fields: [] };
      await vault.push(userId, { expectedVersion: 0, clientId: 'elsewhere', commands: [create] });
    },
    async dispose() {
      await app?.stop();
      await target.dispose(db);
      await rm(blobDir, { recursive: true, force: true });
    },
  };
}
