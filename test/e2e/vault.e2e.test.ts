import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Metadata, makeGenericClientConstructor, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createMutation, deleteMutation, updateMutation } from '../../src/wire/mutations.js';
import { NotLoggedIn, type KeeperClient } from '../../src/client/keeper-client.js';
import { bearer, callUnary, openClients } from '../../src/client/grpc-channel.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import type { PullResponse } from '../../src/gen/keeper/v1/vault.js';

const PASSWORD = 'correct horse battery';

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

async function pullAll(client: KeeperClient, since: number): Promise<PullResponse['events']> {
  const events: PullResponse['events'] = [];
  await client.pull(since, (batch) => events.push(...batch.events));
  return events;
}

for (const target of databaseTargets) {
  describe(`vault over gRPC (${target.name})`, function () {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(async () => server.close());

    async function registered(): Promise<KeeperClient> {
      const client = await server.client();
      await client.register(`user-${randomUUID().slice(0, 8)}`, PASSWORD);
      return client;
    }

    it('registers, logs in, and answers wrong password and unknown login alike', async () => {
      const client = await server.client();
      const login = `alice-${randomUUID().slice(0, 8)}`;
      const session = await client.register(login, PASSWORD);
      expect(session.login).to.equal(login);
      expect(session.accessExpiresAt).to.be.greaterThan(Date.now());

      const again = await server.client();
      expect((await again.login(login.toUpperCase(), PASSWORD)).userId).to.equal(session.userId);

      const wrong = await rejection(again.login(login, 'not the password'));
      const unknown = await rejection(again.login(`nobody-${randomUUID().slice(0, 8)}`, PASSWORD));
      expect(wrong.code).to.equal(status.UNAUTHENTICATED);
      expect(unknown.code).to.equal(status.UNAUTHENTICATED);
      expect(wrong.details).to.equal(unknown.details);

      const taken = await rejection((await server.client()).register(login, PASSWORD));
      expect(taken.code).to.equal(status.ALREADY_EXISTS);

      const weak = await rejection((await server.client()).register(`bob-${randomUUID().slice(0, 8)}`, 'short'));
      expect(weak.code).to.equal(status.INVALID_ARGUMENT);
      expect(weak.details).to.match(/^password/);
      const badLogin = await rejection((await server.client()).register('a b', PASSWORD));
      expect(badLogin.code).to.equal(status.INVALID_ARGUMENT);
      expect(badLogin.details).to.match(/^login/);
    });

    it('slows down repeated failed logins with RESOURCE_EXHAUSTED and a retry delay', async () => {
      const login = `victim-${randomUUID().slice(0, 8)}`;
      await (await server.client()).register(login, PASSWORD);
      const attacker = await server.client();
      for (let i = 0; i < 5; i++) expect((await rejection(attacker.login(login, `guess number ${i}`))).code).to.equal(status.UNAUTHENTICATED);
      const slowed = await rejection(attacker.login(login, PASSWORD));
      expect(slowed.code).to.equal(status.RESOURCE_EXHAUSTED);
      expect(Number(slowed.metadata.get('retry-after-ms')[0])).to.be.greaterThan(0);
      expect(slowed.details).to.not.contain(PASSWORD);
    });

    it('pushes, lists, pulls, edits and deletes a record', async () => {
      const client = await registered();
      expect(await client.status()).to.deep.equal({ version: 0, lastModifiedAt: 0 });

      const create = createMutation({
        kind: 'login',
        name: 'Mail',
        fields: [
          { name: 'user', value: 'alice@example.org', sensitive: false },
          { name: 'password', value: 's3cret', sensitive: true },
        ],
      });
      const recordId = create.change!.$case === 'create' ? create.change!.value.recordId : '';
      const pushed = await client.push({ expectedVersion: 0, clientId: 'test', mutations: [create] });
      expect(pushed.result).to.deep.equal({ $case: 'accepted', value: { version: 1, duplicate: false } });

      await server.projected();
      const listed = await client.list();
      expect(listed.version).to.equal(1);
      expect(listed.records).to.have.length(1);
      expect(listed.records[0]).to.include({ id: recordId, kind: 'login', name: 'Mail', version: 1 });
      // On the wire a text field's kind is '' (proto3 has no absent string).
      expect(listed.records[0]!.fields).to.deep.equal([
        { name: 'user', value: 'alice@example.org', sensitive: false, kind: '' },
        { name: 'password', value: 's3cret', sensitive: true, kind: '' },
      ]);

      const edit = updateMutation(recordId, { name: 'Work mail', setFields: [{ name: 'password', value: 'n3w', sensitive: true }], removeFields: ['user'] });
      const edited = await client.push({ expectedVersion: 1, clientId: 'test', mutations: [edit] });
      expect(edited.result).to.deep.equal({ $case: 'accepted', value: { version: 2, duplicate: false } });

      const events = await pullAll(client, 0);
      expect(events.map((e) => [e.version, e.type, e.id])).to.deep.equal([
        [1, 'RecordCreated', create.mutationId],
        [2, 'RecordUpdated', edit.mutationId],
      ]);
      expect(JSON.parse(events[1]!.data)).to.deep.equal({
        recordId,
        name: 'Work mail',
        setFields: [{ name: 'password', value: 'n3w', sensitive: true }],
        removeFields: ['user'],
      });
      expect(events[1]!.clientId).to.equal('test');
      expect(await pullAll(client, 2)).to.deep.equal([]);

      await server.projected();
      const afterEdit = await client.list();
      expect(afterEdit.records[0]).to.include({ name: 'Work mail', version: 2 });
      expect(afterEdit.records[0]!.fields).to.deep.equal([{ name: 'password', value: 'n3w', sensitive: true, kind: '' }]);

      const removed = await client.push({ expectedVersion: 2, clientId: 'test', mutations: [deleteMutation(recordId)] });
      expect(removed.result).to.deep.equal({ $case: 'accepted', value: { version: 3, duplicate: false } });
      await server.projected();
      expect((await client.list()).records).to.deep.equal([]);
      const statusAfter = await client.status();
      expect(statusAfter.version).to.equal(3);
      expect(statusAfter.lastModifiedAt).to.be.within(Date.now() - 60_000, Date.now() + 1000);

      const again = await rejection(client.push({ expectedVersion: 3, clientId: 'test', mutations: [updateMutation(recordId, { name: 'x' })] }));
      expect(again.code).to.equal(status.FAILED_PRECONDITION);
      expect(again.details).to.contain('was deleted');
    });

    it('answers a stale expected version with a conflict and appends nothing', async () => {
      const client = await registered();
      await client.push({ expectedVersion: 0, clientId: 'a', mutations: [createMutation({ kind: 'note', name: 'one', fields: [] })] });
      await client.push({ expectedVersion: 1, clientId: 'a', mutations: [createMutation({ kind: 'note', name: 'two', fields: [] })] });
      const stale = await client.push({ expectedVersion: 1, clientId: 'b', mutations: [createMutation({ kind: 'note', name: 'three', fields: [] })] });
      expect(stale.result).to.deep.equal({ $case: 'conflict', value: { currentVersion: 2 } });
      const ahead = await client.push({ expectedVersion: 7, clientId: 'b', mutations: [createMutation({ kind: 'note', name: 'three', fields: [] })] });
      expect(ahead.result).to.deep.equal({ $case: 'conflict', value: { currentVersion: 2 } });
      expect((await client.status()).version).to.equal(2);
    });

    it('makes a retried push with the same mutation ids a no-op', async () => {
      const client = await registered();
      const mutations = [createMutation({ kind: 'note', name: 'a', fields: [] }), createMutation({ kind: 'note', name: 'b', fields: [] })];
      const first = await client.push({ expectedVersion: 0, clientId: 'c', mutations });
      const retry = await client.push({ expectedVersion: 0, clientId: 'c', mutations });
      expect(first.result).to.deep.equal({ $case: 'accepted', value: { version: 2, duplicate: false } });
      expect(retry.result).to.deep.equal({ $case: 'accepted', value: { version: 2, duplicate: true } });
      expect(await pullAll(client, 0)).to.have.length(2);

      // The same mutation id in a different push is refused rather than silently dropped.
      const reused = await rejection(
        client.push({ expectedVersion: 2, clientId: 'c', mutations: [createMutation({ kind: 'note', name: 'c', fields: [] }, mutations[0]!.mutationId)] }),
      );
      expect(reused.code).to.equal(status.ALREADY_EXISTS);
      expect((await client.status()).version).to.equal(2);
    });

    it("accepts another user's mutation id as new: the idempotency check tells nothing about other users", async () => {
      const alice = await registered();
      const bob = await registered();
      const alices = createMutation({ kind: 'note', name: 'alice note', fields: [] });
      await alice.push({ expectedVersion: 0, clientId: 'a', mutations: [alices] });

      // Bob happens to (or tries to) use the same mutation id: to him it is simply a new change.
      const bobs = createMutation({ kind: 'note', name: 'bob note', fields: [] }, alices.mutationId);
      const pushed = await bob.push({ expectedVersion: 0, clientId: 'b', mutations: [bobs] });
      expect(pushed.result).to.deep.equal({ $case: 'accepted', value: { version: 1, duplicate: false } });
      // His own retry is still recognised, and a reuse in his own stream still refused.
      const retry = await bob.push({ expectedVersion: 0, clientId: 'b', mutations: [bobs] });
      expect(retry.result).to.deep.equal({ $case: 'accepted', value: { version: 1, duplicate: true } });
      const reused = await rejection(
        bob.push({ expectedVersion: 1, clientId: 'b', mutations: [createMutation({ kind: 'note', name: 'again', fields: [] }, alices.mutationId)] }),
      );
      expect(reused.code).to.equal(status.ALREADY_EXISTS);

      // Each stream holds its own event under that id; neither saw the other's.
      expect((await pullAll(bob, 0)).map((e) => [e.id, JSON.parse(e.data).name])).to.deep.equal([[alices.mutationId, 'bob note']]);
      expect((await pullAll(alice, 0)).map((e) => [e.id, JSON.parse(e.data).name])).to.deep.equal([[alices.mutationId, 'alice note']]);
      await server.projected();
      expect((await alice.list()).records.map((r) => r.name)).to.deep.equal(['alice note']);
      expect((await bob.list()).records.map((r) => r.name)).to.deep.equal(['bob note']);
    });

    it('keeps users apart: another user cannot see or touch a record by its id', async () => {
      const alice = await registered();
      const mallory = await registered();
      const create = createMutation({ kind: 'card', name: 'Visa', fields: [{ name: 'number', value: '4111', sensitive: true }] });
      const recordId = create.change!.$case === 'create' ? create.change!.value.recordId : '';
      await alice.push({ expectedVersion: 0, clientId: 'a', mutations: [create] });

      const update = await rejection(mallory.push({ expectedVersion: 0, clientId: 'm', mutations: [updateMutation(recordId, { name: 'mine' })] }));
      expect(update.code).to.equal(status.NOT_FOUND);
      const remove = await rejection(mallory.push({ expectedVersion: 0, clientId: 'm', mutations: [deleteMutation(recordId)] }));
      expect(remove.code).to.equal(status.NOT_FOUND);
      await server.projected();
      expect((await mallory.list()).records).to.deep.equal([]);
      expect(await pullAll(mallory, 0)).to.deep.equal([]);
      expect((await alice.list()).records.map((r) => r.name)).to.deep.equal(['Visa']);
    });

    it('refuses missing, garbage and forged tokens', async () => {
      const alice = await registered();
      await alice.push({ expectedVersion: 0, clientId: 'a', mutations: [createMutation({ kind: 'note', name: 'secret note', fields: [] })] });
      const raw = openClients({ server: server.address, tls: false });
      try {
        const status0 = raw.vault.status.bind(raw.vault);
        const missing = await rejection(callUnary(status0, {}, new Metadata(), 5000));
        expect(missing.code).to.equal(status.UNAUTHENTICATED);
        expect(missing.details).to.contain('missing access token');

        const garbage = await rejection(callUnary(status0, {}, bearer('v4.public.garbage'), 5000));
        expect(garbage.code).to.equal(status.UNAUTHENTICATED);

        const otherKey = await TokenIssuer.fromSecretKey(await TokenIssuer.generateSecretKey());
        const session = (await alice.currentSession())!;
        const forged = await otherKey.issue({ userId: session.userId, login: session.login, sessionId: randomUUID() });
        const forgedCall = await rejection(callUnary(raw.vault.status.bind(raw.vault), {}, bearer(forged.token), 5000));
        expect(forgedCall.code).to.equal(status.UNAUTHENTICATED);
        expect(forgedCall.details).to.contain('invalid');

        // A client cannot name its own user through the metadata the interceptor sets.
        const spoof = bearer('nope');
        spoof.set('x-keeper-verified-user', session.userId);
        expect((await rejection(callUnary(raw.vault.status.bind(raw.vault), {}, spoof, 5000))).code).to.equal(status.UNAUTHENTICATED);
      } finally {
        raw.close();
      }
    });

    it('rotates refresh tokens, answers a retry alike, revokes the family on reuse, and logs out', async () => {
      const client = await registered();
      const raw = openClients({ server: server.address, tls: false });
      try {
        const first = (await client.currentSession())!;
        const refresh = raw.auth.refresh.bind(raw.auth);
        const rotated = (await callUnary(refresh, { refreshToken: first.refreshToken }, new Metadata(), 5000)).session!;
        expect(rotated.refreshToken).to.not.equal(first.refreshToken);
        // a retry within the reuse window gets the same successor
        const retried = (await callUnary(refresh, { refreshToken: first.refreshToken }, new Metadata(), 5000)).session!;
        expect(retried.refreshToken).to.equal(rotated.refreshToken);
        const next = (await callUnary(refresh, { refreshToken: rotated.refreshToken }, new Metadata(), 5000)).session!;
        // once the successor was used, the old token again is a reuse: the session ends
        const reuse = await rejection(callUnary(refresh, { refreshToken: first.refreshToken }, new Metadata(), 5000));
        expect(reuse.code).to.equal(status.UNAUTHENTICATED);
        expect(reuse.details).to.contain('already used');
        const afterReuse = await rejection(callUnary(refresh, { refreshToken: next.refreshToken }, new Metadata(), 5000));
        expect(afterReuse.code).to.equal(status.UNAUTHENTICATED);
        expect(afterReuse.details).to.match(/^session ended: /);

        const other = await registered();
        expect(await other.logout()).to.equal(true);
        expect(await rejection(other.status())).to.be.instanceOf(NotLoggedIn);
      } finally {
        raw.close();
      }
    });

    it('turns malformed and oversized messages into clear statuses and keeps serving', async () => {
      const client = await registered();
      const noChange = await rejection(client.push({ expectedVersion: 0, clientId: 'x', mutations: [{ mutationId: randomUUID(), change: undefined }] }));
      expect(noChange.code).to.equal(status.INVALID_ARGUMENT);
      expect(noChange.details).to.equal('mutations.0.change: must be one of create, update, delete, restore, setVaultKey');

      const badId = await rejection(client.push({ expectedVersion: 0, clientId: 'x', mutations: [createMutation({ recordId: 'not-a-uuid', kind: 'note', name: 'n', fields: [] })] }));
      expect(badId.code).to.equal(status.INVALID_ARGUMENT);
      expect(badId.details).to.equal('mutations.0.recordId: must be a UUID');

      const badKind = await rejection(client.push({ expectedVersion: 0, clientId: 'x', mutations: [createMutation({ kind: 'spaceship' as 'note', name: 'n', fields: [] })] }));
      expect(badKind.details).to.match(/^mutations\.0\.kind: must be one of login, card, note, custom/);

      const longName = await rejection(client.push({ expectedVersion: 0, clientId: 'x', mutations: [createMutation({ kind: 'note', name: 'n'.repeat(201), fields: [] })] }));
      expect(longName.details).to.equal('mutations.0.name: must be at most 200 characters');

      const dupFields = await rejection(
        client.push({
          expectedVersion: 0,
          clientId: 'x',
          mutations: [createMutation({ kind: 'note', name: 'n', fields: [{ name: 'a', value: '1', sensitive: false }, { name: 'a', value: '2', sensitive: false }] })],
        }),
      );
      expect(dupFields.details).to.equal('mutations.0.fields.1.name: duplicate field name "a"');

      const tooMany = await rejection(
        client.push({ expectedVersion: 0, clientId: 'x', mutations: Array.from({ length: 501 }, () => createMutation({ kind: 'note', name: 'n', fields: [] })) }),
      );
      expect(tooMany.details).to.equal('mutations: at most 500 mutations per push');

      const bigValue = await rejection(
        client.push({ expectedVersion: 0, clientId: 'x', mutations: [createMutation({ kind: 'note', name: 'n', fields: [{ name: 'v', value: 'x'.repeat(70_000), sensitive: false }] })] }),
      );
      expect(bigValue.details).to.equal('mutations.0.fields.0.value: must be at most 65536 characters');

      const huge = await rejection(
        client.push({
          expectedVersion: 0,
          clientId: 'x',
          mutations: Array.from({ length: 80 }, () => createMutation({ kind: 'note', name: 'n', fields: [{ name: 'v', value: 'x'.repeat(60_000), sensitive: false }] })),
        }),
      );
      expect(huge.code).to.equal(status.RESOURCE_EXHAUSTED);

      const negative = await rejection(client.pull(-1 as number, () => {}));
      expect(negative.code).to.not.equal(status.OK);

      // Bytes that are not a protobuf message at all.
      const Raw = makeGenericClientConstructor(
        {
          push: {
            path: '/keeper.v1.VaultService/Push',
            requestStream: false,
            responseStream: false,
            requestSerialize: (value: Buffer) => value,
            requestDeserialize: (value: Buffer) => value,
            responseSerialize: (value: Buffer) => value,
            responseDeserialize: (value: Buffer) => value,
          },
        },
        'Raw',
      );
      const rawClient = new Raw(server.address, credentials.createInsecure()) as unknown as {
        push(req: Buffer, md: Metadata, cb: (e: ServiceError | null) => void): void;
        close(): void;
      };
      const session = (await client.currentSession())!;
      const garbled = await new Promise<ServiceError | null>((resolve) => rawClient.push(Buffer.from([0xff, 0xff, 0xff, 0x01]), bearer(session.accessToken), resolve));
      rawClient.close();
      expect(garbled?.code).to.be.oneOf([status.INTERNAL, status.INVALID_ARGUMENT]);

      expect((await client.status()).version).to.equal(0);
      const ok = await client.push({ expectedVersion: 0, clientId: 'x', mutations: [createMutation({ kind: 'note', name: 'still fine', fields: [] })] });
      expect(ok.result?.$case).to.equal('accepted');
    });
  });

  describe(`access token expiry (${target.name})`, function () {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target, { accessTtlSeconds: 1 });
    });
    after(async () => server.close());

    it('rejects an expired access token and the client renews it with the refresh token', async () => {
      const client = await server.client();
      await client.register(`exp-${randomUUID().slice(0, 8)}`, PASSWORD);
      const session = (await client.currentSession())!;
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const raw = openClients({ server: server.address, tls: false });
      try {
        const expired = await rejection(callUnary(raw.vault.status.bind(raw.vault), {}, bearer(session.accessToken), 5000));
        expect(expired.code).to.equal(status.UNAUTHENTICATED);
        expect(expired.details).to.contain('expired');
      } finally {
        raw.close();
      }
      expect((await client.status()).version).to.equal(0);
      expect((await client.currentSession())!.accessToken).to.not.equal(session.accessToken);
    });
  });
}
