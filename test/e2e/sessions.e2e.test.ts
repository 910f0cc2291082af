import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { databaseTargets, postgresTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { bearer, callUnary, openClients, type GrpcClients } from '../../src/client/grpc-channel.js';
import { NotLoggedIn } from '../../src/client/keeper-client.js';
import { defaultImageParts, startServer, type RunningApp } from '../../src/composition/server-app.js';
import { createLogger } from '../../src/logging.js';
import type { Session } from '../../src/gen/keeper/v1/auth.js';

const PASSWORD = 'correct horse battery';

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

for (const target of databaseTargets) {
  describe(`sessions over gRPC (${target.name})`, function () {
    let server: TestServer;
    let raw: GrpcClients;
    before(async () => {
      server = await startTestServer(target);
      raw = openClients({ server: server.address, tls: false });
    });
    after(async () => {
      raw.close();
      await server.close();
    });

    const login = (name: string, clientId = '') =>
      callUnary(raw.auth.login.bind(raw.auth), { login: name, password: PASSWORD, clientId }, new Metadata(), 10_000).then((r) => r.session!);
    const register = async (clientId = ''): Promise<Session> => {
      const name = `user-${randomUUID().slice(0, 8)}`;
      return (await callUnary(raw.auth.register.bind(raw.auth), { login: name, password: PASSWORD, clientId }, new Metadata(), 10_000)).session!;
    };
    const refresh = (token: string) => callUnary(raw.auth.refresh.bind(raw.auth), { refreshToken: token }, new Metadata(), 10_000).then((r) => r.session!);
    const vaultStatus = (accessToken: string) => callUnary(raw.vault.status.bind(raw.vault), {}, bearer(accessToken), 10_000);

    it('answers 10 parallel Refresh calls with one token alike, and the session goes on', async () => {
      const session = await register();
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => refresh(session.refreshToken)));
      const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(ok, JSON.stringify(results.filter((r) => r.status === 'rejected'))).to.have.length(10);
      expect(new Set(ok.map((s) => s.refreshToken)).size).to.equal(1);
      for (const s of ok) await vaultStatus(s.accessToken);
      const next = await refresh(ok[0]!.refreshToken);
      await vaultStatus(next.accessToken);
    });

    it('ends a session at once on Logout: its access token is refused with "session ended", and so is its refresh token', async () => {
      const session = await register();
      await vaultStatus(session.accessToken);
      await callUnary(raw.auth.logout.bind(raw.auth), { refreshToken: session.refreshToken }, new Metadata(), 10_000);
      const call = await rejection(vaultStatus(session.accessToken));
      expect(call.code).to.equal(status.UNAUTHENTICATED);
      expect(call.details).to.equal('session ended: logged out');
      const again = await rejection(refresh(session.refreshToken));
      expect(again.code).to.equal(status.UNAUTHENTICATED);
      expect(again.details).to.equal('session ended: logged out');
      expect(again.details).not.to.contain('already used');
    });

    it('stops a running client on another device as soon as its session is revoked', async () => {
      const name = `tui-${randomUUID().slice(0, 8)}`;
      const device = await server.client();
      await device.register(name, PASSWORD);
      await device.status();
      const elsewhere = await server.client();
      await elsewhere.login(name, PASSWORD);
      // the device's own session is ended from the other one
      const sessions = await elsewhere.listSessions();
      const deviceSession = sessions.find((s) => !s.current)!;
      expect(await elsewhere.revokeSessions({ sessionId: deviceSession.sessionId })).to.equal(1);
      const stopped = await device.status().catch((error: unknown) => error);
      expect(stopped).to.be.instanceOf(NotLoggedIn);
      // The core says why in no face's words; each face adds how to log in again.
      expect((stopped as NotLoggedIn).why).to.equal('it was revoked from another session');
      expect((stopped as Error).message).to.equal('session ended (it was revoked from another session)');
      expect(await device.currentSession()).to.equal(undefined);
      await elsewhere.status();
    });

    it('lists the caller\'s sessions with client id, times and which one is this, and revokes all the others', async () => {
      const first = await register('cli-laptop');
      const name = first.login;
      const phone = await login(name, 'tui-phone');
      const desk = await login(name, 'cli-desk');
      const listed = await callUnary(raw.auth.listSessions.bind(raw.auth), {}, bearer(desk.accessToken), 10_000);
      expect(listed.sessions.map((s) => s.clientId).sort()).to.deep.equal(['cli-desk', 'cli-laptop', 'tui-phone']);
      expect(listed.sessions.filter((s) => s.current).map((s) => s.clientId)).to.deep.equal(['cli-desk']);
      for (const s of listed.sessions) {
        expect(s.sessionId).to.match(/^[0-9a-f-]{36}$/);
        expect(s.createdAt).to.be.within(Date.now() - 60_000, Date.now() + 1_000);
        expect(s.lastUsedAt).to.be.at.least(s.createdAt);
      }
      const revoked = await callUnary(raw.auth.revokeSessions.bind(raw.auth), { target: { $case: 'allOthers', value: true } }, bearer(desk.accessToken), 10_000);
      expect(revoked.revoked).to.equal(2);
      for (const token of [first.accessToken, phone.accessToken]) {
        expect((await rejection(vaultStatus(token))).details).to.equal('session ended: it was revoked from another session');
      }
      await vaultStatus(desk.accessToken);
    });

    it('refuses the session calls without an access token, and bad targets with a sentence', async () => {
      const none = await rejection(callUnary(raw.auth.listSessions.bind(raw.auth), {}, new Metadata(), 10_000));
      expect(none.code).to.equal(status.UNAUTHENTICATED);
      const session = await register();
      const badId = await rejection(
        callUnary(raw.auth.revokeSessions.bind(raw.auth), { target: { $case: 'sessionId', value: 'not-an-id' } }, bearer(session.accessToken), 10_000),
      );
      expect(badId.code).to.equal(status.INVALID_ARGUMENT);
      expect(badId.details).to.match(/session id/);
      const noTarget = await rejection(callUnary(raw.auth.revokeSessions.bind(raw.auth), { target: undefined }, bearer(session.accessToken), 10_000));
      expect(noTarget.code).to.equal(status.INVALID_ARGUMENT);
      const unknown = await rejection(
        callUnary(raw.auth.revokeSessions.bind(raw.auth), { target: { $case: 'sessionId', value: randomUUID() } }, bearer(session.accessToken), 10_000),
      );
      expect(unknown.code).to.equal(status.NOT_FOUND);
    });
  });
}

if (postgresTarget) {
  const pg = postgresTarget;
  describe('sessions across two server replicas over one PostgreSQL', function () {
    let a: TestServer;
    let b: RunningApp;
    let blobDir: string;
    let raw: { a: GrpcClients; b: GrpcClients };
    before(async () => {
      a = await startTestServer(pg);
      blobDir = await mkdtemp(join(tmpdir(), 'keeper-blobs-'));
      b = await startServer(
        a.db,
        {
          host: '127.0.0.1',
          port: 0,
          maxMessageBytes: 4 * 1024 * 1024,
          tokenKey: a.tokenKey,
          auth: { bcryptCost: 10, sessionCheckMs: 1_000 },
          inlineProjector: false,
          images: defaultImageParts(blobDir),
        },
        createLogger('silent', 'test'),
      );
      raw = { a: openClients({ server: a.address, tls: false }), b: openClients({ server: b.grpc.address, tls: false }) };
    });
    after(async () => {
      raw.a.close();
      raw.b.close();
      await b.stop();
      await a.close();
      await rm(blobDir, { recursive: true, force: true });
    });

    it('refuses on replica B, within its check interval, a session logged out through replica A', async () => {
      const name = `replica-${randomUUID().slice(0, 8)}`;
      const { session } = await callUnary(raw.a.auth.register.bind(raw.a.auth), { login: name, password: PASSWORD, clientId: '' }, new Metadata(), 10_000);
      await callUnary(raw.b.vault.status.bind(raw.b.vault), {}, bearer(session!.accessToken), 10_000);
      await callUnary(raw.a.auth.logout.bind(raw.a.auth), { refreshToken: session!.refreshToken }, new Metadata(), 10_000);
      const loggedOutAt = Date.now();
      let refused: ServiceError | undefined;
      while (!refused && Date.now() - loggedOutAt < 10_000) {
        refused = await callUnary(raw.b.vault.status.bind(raw.b.vault), {}, bearer(session!.accessToken), 10_000).then(
          () => undefined,
          (error: ServiceError) => error,
        );
        if (!refused) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(refused?.code).to.equal(status.UNAUTHENTICATED);
      expect(refused?.details).to.equal('session ended: logged out');
      // 1 s check interval, plus a loaded machine's slack
      expect(Date.now() - loggedOutAt).to.be.below(5_000);
    });
  });
}
