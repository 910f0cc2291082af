import { expect } from 'chai';
import { AuthError, AuthService, type AuthSession } from '../../../src/server/auth/service.js';
import { TokenIssuer } from '../../../src/server/auth/tokens.js';
import type { Database } from '../../../src/server/sql/database.js';
import { databaseTargets } from '../../support/databases.js';
import { FakeClock, rejection } from './helpers.js';

async function authError(promise: Promise<unknown>): Promise<AuthError> {
  const error = await rejection(promise);
  expect(error).to.be.instanceOf(AuthError);
  return error as AuthError;
}

const PEER = 'ipv4:203.0.113.9:40000';
let counter = 0;
const uniqueLogin = (base: string) => `${base}${(counter += 1)}`;

for (const target of databaseTargets) {
  describe(`AuthService (${target.name})`, () => {
    let db: Database;
    let secret: string;
    let clock: FakeClock;
    let auth: AuthService;

    before(async () => {
      db = await target.open();
      secret = await TokenIssuer.generateSecretKey();
    });
    after(async () => {
      await target.dispose(db);
    });
    beforeEach(async () => {
      clock = new FakeClock(Date.now());
      auth = await AuthService.create(db, { accessTokenSecretKey: secret, config: { bcryptCost: 10 }, clock: clock.now });
    });

    function expectSession(session: AuthSession, login: string): void {
      expect(session.userId).to.match(/^[0-9a-f-]{36}$/);
      expect(session.login).to.equal(login);
      expect(session.accessToken).to.match(/^v4\.public\./);
      expect(session.refreshToken).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(session.accessExpiresAt).to.be.within(clock.time + 899_000, clock.time + 900_000);
      expect(session.refreshExpiresAt).to.equal(clock.time + 30 * 24 * 3600 * 1000);
    }

    it('applies the defaults it was not given', () => {
      expect(auth.config).to.deep.include({ bcryptCost: 10, accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 2_592_000 });
      expect(auth.config.throttle).to.include({ maxFailuresPerLoginAndPeer: 5, maxFailuresPerPeer: 20, maxFailuresPerLogin: 100 });
    });

    it('refuses a bcrypt cost under 10', async () => {
      const error = await rejection(AuthService.create(db, { accessTokenSecretKey: secret, config: { bcryptCost: 8 } }));
      expect(error).to.be.instanceOf(RangeError);
    });

    it('registers, signs in and verifies the access token', async () => {
      const login = uniqueLogin('Alice.');
      const registered = await auth.register({ login: `  ${login} `, password: 'correct horse' }, PEER);
      expectSession(registered, login);
      expect(await auth.verifyAccessToken(registered.accessToken)).to.deep.include({ userId: registered.userId, login });

      const signedIn = await auth.login({ login: login.toUpperCase(), password: 'correct horse' }, PEER);
      expectSession(signedIn, login);
      expect(signedIn.userId).to.equal(registered.userId);
      expect(signedIn.refreshToken).not.to.equal(registered.refreshToken);
    });

    it('refuses bad registration input with invalid_argument naming the field', async () => {
      const short = await authError(auth.register({ login: 'ok-login', password: 'short' }, PEER));
      expect(short).to.include({ code: 'invalid_argument', field: 'password' });
      expect(short.message).to.match(/^password: /);
      const badLogin = await authError(auth.register({ login: 'no spaces', password: 'correct horse' }, PEER));
      expect(badLogin).to.include({ code: 'invalid_argument', field: 'login' });
      expect(badLogin.message).to.match(/^login: /);
    });

    it('refuses a login already taken in another case', async () => {
      const login = uniqueLogin('Bob');
      await auth.register({ login, password: 'correct horse' }, PEER);
      const error = await authError(auth.register({ login: login.toLowerCase(), password: 'other password' }, PEER));
      expect(error).to.include({ code: 'already_exists', field: 'login', message: 'login: is already taken' });
    });

    it('gives the identical answer for a wrong password and for an unknown login', async () => {
      const login = uniqueLogin('carol');
      await auth.register({ login, password: 'correct horse' }, PEER);
      const wrongPassword = await authError(auth.login({ login, password: 'wrong horse!' }, PEER));
      const unknownLogin = await authError(auth.login({ login: uniqueLogin('nobody'), password: 'wrong horse!' }, PEER));
      for (const error of [wrongPassword, unknownLogin]) {
        expect(error.code).to.equal('unauthenticated');
        expect(error.message).to.equal('login or password is wrong');
        expect(error.field).to.equal(undefined);
      }
      expect(Object.entries(wrongPassword)).to.deep.equal(Object.entries(unknownLogin));
    });

    it('checks only bounds on login input', async () => {
      const error = await authError(auth.login({ login: '', password: 'x' }, PEER));
      expect(error).to.include({ code: 'invalid_argument', field: 'login' });
      // too short to register, yet just a wrong login here
      expect(await authError(auth.login({ login: 'ab', password: 'x' }, PEER))).to.include({ code: 'unauthenticated' });
    });

    it('never puts a password or token in an error message', async () => {
      const login = uniqueLogin('dave');
      const session = await auth.register({ login, password: 'secret sauce 1' }, PEER);
      const errors = [
        await authError(auth.login({ login, password: 'secret sauce 2' }, PEER)),
        await authError(auth.register({ login: 'xy', password: 'secret sauce 3' }, PEER)),
        await authError(auth.verifyAccessToken(session.accessToken + 'x')),
        await authError(auth.refresh({ refreshToken: session.refreshToken + 'x' })),
      ];
      for (const error of errors) {
        expect(JSON.stringify({ ...error, message: error.message })).not.to.match(/secret sauce|v4\.public|[A-Za-z0-9_-]{43}/);
      }
    });

    it('refreshes: rotates the refresh token and issues a new access token', async () => {
      const login = uniqueLogin('erin');
      const first = await auth.register({ login, password: 'correct horse' }, PEER);
      clock.advance(60_000);
      const second = await auth.refresh({ refreshToken: first.refreshToken });
      expectSession(second, login);
      expect(second.userId).to.equal(first.userId);
      expect(second.refreshToken).not.to.equal(first.refreshToken);
      expect(await auth.verifyAccessToken(second.accessToken)).to.deep.include({ userId: first.userId, login });
      const third = await auth.refresh({ refreshToken: second.refreshToken });
      expect(third.userId).to.equal(first.userId);
    });

    it('revokes the session when an old refresh token is presented again after the reuse window', async () => {
      const first = await auth.register({ login: uniqueLogin('frank'), password: 'correct horse' }, PEER);
      const second = await auth.refresh({ refreshToken: first.refreshToken });
      clock.advance(10_001);
      const reused = await authError(auth.refresh({ refreshToken: first.refreshToken }));
      expect(reused).to.include({ code: 'unauthenticated', reason: 'token_reused' });
      const newer = await authError(auth.refresh({ refreshToken: second.refreshToken }));
      expect(newer).to.include({ code: 'unauthenticated', reason: 'session_ended' });
      expect(newer.message).to.match(/^session ended: /);
      expect(await authError(auth.verifyAccessToken(second.accessToken))).to.include({ code: 'unauthenticated', reason: 'session_ended' });
    });

    it('answers a retried refresh within the reuse window with the same successor, keeping the session', async () => {
      const first = await auth.register({ login: uniqueLogin('retry'), password: 'correct horse' }, PEER);
      const answers = await Promise.all(Array.from({ length: 10 }, () => auth.refresh({ refreshToken: first.refreshToken })));
      expect(new Set(answers.map((a) => a.refreshToken)).size).to.equal(1);
      clock.advance(9_000);
      const retried = await auth.refresh({ refreshToken: first.refreshToken });
      expect(retried.refreshToken).to.equal(answers[0]!.refreshToken);
      for (const answer of answers) expect((await auth.verifyAccessToken(answer.accessToken)).userId).to.equal(first.userId);
      const next = await auth.refresh({ refreshToken: retried.refreshToken });
      expect(next.refreshToken).not.to.equal(retried.refreshToken);
      // the successor was used: the old token presented again now is a reuse, and ends the session
      expect(await authError(auth.refresh({ refreshToken: first.refreshToken }))).to.include({ reason: 'token_reused' });
      expect(await authError(auth.refresh({ refreshToken: next.refreshToken }))).to.include({ reason: 'session_ended' });
    });

    it('refuses an expired refresh token and an unknown one', async () => {
      const first = await auth.register({ login: uniqueLogin('gina'), password: 'correct horse' }, PEER);
      clock.advance(30 * 24 * 3600 * 1000 + 1);
      expect(await authError(auth.refresh({ refreshToken: first.refreshToken }))).to.include({
        code: 'unauthenticated',
        reason: 'token_expired',
        message: 'refresh token has expired',
      });
      expect(await authError(auth.refresh({ refreshToken: 'A'.repeat(43) }))).to.include({ code: 'unauthenticated', reason: 'token_invalid' });
      expect(await authError(auth.refresh({ refreshToken: '' }))).to.include({ code: 'invalid_argument', field: 'refreshToken' });
    });

    it('logs out: the refresh token, its whole family and its access tokens stop working at once', async () => {
      const first = await auth.register({ login: uniqueLogin('hank'), password: 'correct horse' }, PEER);
      const second = await auth.refresh({ refreshToken: first.refreshToken });
      const other = await auth.login({ login: first.login, password: 'correct horse' }, PEER);
      expect((await auth.verifyAccessToken(second.accessToken)).userId).to.equal(first.userId);
      await auth.logout({ refreshToken: second.refreshToken });
      const refused = await authError(auth.refresh({ refreshToken: second.refreshToken }));
      expect(refused).to.include({ code: 'unauthenticated', reason: 'session_ended', message: 'session ended: logged out' });
      expect(await authError(auth.refresh({ refreshToken: first.refreshToken }))).to.include({ message: 'session ended: logged out' });
      for (const token of [first.accessToken, second.accessToken]) {
        expect(await authError(auth.verifyAccessToken(token))).to.include({ code: 'unauthenticated', message: 'session ended: logged out' });
      }
      // the user's other session goes on
      expect((await auth.verifyAccessToken(other.accessToken)).userId).to.equal(first.userId);
      await auth.logout({ refreshToken: second.refreshToken }); // idempotent
      await auth.logout({ refreshToken: 'never issued' }); // quiet
    });

    it('lists the caller\'s sessions and revokes one or all the others, at once for their access tokens', async () => {
      const login = uniqueLogin('multi');
      const laptop = await auth.register({ login, password: 'correct horse', clientId: 'cli-laptop' }, PEER);
      clock.advance(1_000);
      const phone = await auth.login({ login, password: 'correct horse', clientId: 'tui-phone' }, PEER);
      clock.advance(1_000);
      const desk = await auth.login({ login, password: 'correct horse' }, PEER);
      const stranger = await auth.register({ login: uniqueLogin('stranger'), password: 'correct horse' }, PEER);
      const me = await auth.verifyAccessToken(desk.accessToken);
      const list = await auth.listSessions(me);
      expect(list.map((s) => [s.clientId, s.current])).to.deep.equal([
        ['', true],
        ['tui-phone', false],
        ['cli-laptop', false],
      ]);
      expect(list[2]!.createdAt).to.equal(list[0]!.createdAt - 2_000);
      const phoneSession = list[1]!.sessionId;
      // another user's session is not found, and stays
      const strangerSession = (await auth.verifyAccessToken(stranger.accessToken)).sessionId;
      expect(await authError(auth.revokeSessions(me, { sessionId: strangerSession }))).to.include({ code: 'not_found' });
      expect((await auth.verifyAccessToken(stranger.accessToken)).userId).to.equal(stranger.userId);

      expect(await auth.revokeSessions(me, { sessionId: phoneSession })).to.equal(1);
      expect(await authError(auth.verifyAccessToken(phone.accessToken))).to.include({ message: 'session ended: it was revoked from another session' });
      expect(await authError(auth.refresh({ refreshToken: phone.refreshToken }))).to.include({ reason: 'session_ended' });
      expect(await authError(auth.revokeSessions(me, { sessionId: phoneSession }))).to.include({ code: 'not_found' });

      expect(await auth.revokeSessions(me, { allOthers: true })).to.equal(1);
      expect(await authError(auth.verifyAccessToken(laptop.accessToken))).to.include({ reason: 'session_ended' });
      expect((await auth.listSessions(me)).map((s) => s.sessionId)).to.deep.equal([me.sessionId]);
      expect((await auth.verifyAccessToken(desk.accessToken)).userId).to.equal(desk.userId);
    });

    it("records a session's last use by its access token, written about once a minute", async () => {
      const session = await auth.register({ login: uniqueLogin('used'), password: 'correct horse' }, PEER);
      const me = await auth.verifyAccessToken(session.accessToken);
      const created = (await auth.listSessions(me))[0]!.createdAt;
      clock.advance(30_000);
      await auth.verifyAccessToken(session.accessToken);
      clock.advance(31_000);
      await auth.verifyAccessToken(session.accessToken); // the reload after a minute writes the uses
      let lastUsed = created;
      for (let i = 0; i < 50 && lastUsed === created; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        lastUsed = (await auth.listSessions(me))[0]!.lastUsedAt;
      }
      expect(lastUsed).to.be.within(created + 30_000, created + 61_000);
    });

    it('refuses a session ended through another replica within the check interval, without a query per call', async () => {
      const replicaA = await AuthService.create(db, { accessTokenSecretKey: secret, config: { bcryptCost: 10, sessionCheckMs: 1_000 }, clock: clock.now });
      const replicaB = await AuthService.create(db, { accessTokenSecretKey: secret, config: { bcryptCost: 10, sessionCheckMs: 1_000 }, clock: clock.now });
      const session = await replicaA.register({ login: uniqueLogin('replica'), password: 'correct horse' }, PEER);
      expect((await replicaA.verifyAccessToken(session.accessToken)).userId).to.equal(session.userId);
      await replicaB.logout({ refreshToken: session.refreshToken });
      expect(await authError(replicaB.verifyAccessToken(session.accessToken))).to.include({ reason: 'session_ended' });
      // A answers from memory until its interval passes, then reads the ended sessions again
      clock.advance(999);
      expect((await replicaA.verifyAccessToken(session.accessToken)).userId).to.equal(session.userId);
      clock.advance(1);
      expect(await authError(replicaA.verifyAccessToken(session.accessToken))).to.include({ message: 'session ended: logged out' });
    });

    it('tells an expired access token from an invalid one', async () => {
      const session = await auth.register({ login: uniqueLogin('ivy'), password: 'correct horse' }, PEER);
      clock.advance(900_001);
      expect(await authError(auth.verifyAccessToken(session.accessToken))).to.include({
        code: 'unauthenticated',
        reason: 'token_expired',
        message: 'access token has expired',
      });
      const other = await AuthService.create(db, { accessTokenSecretKey: await TokenIssuer.generateSecretKey(), config: { bcryptCost: 10 } });
      const foreign = await other.register({ login: uniqueLogin('jack'), password: 'correct horse' }, PEER);
      expect(await authError(auth.verifyAccessToken(foreign.accessToken))).to.include({
        code: 'unauthenticated',
        reason: 'token_invalid',
        message: 'access token is invalid',
      });
      expect(await authError(auth.verifyAccessToken(''))).to.include({ code: 'unauthenticated' });
    });

    it('accepts a (cached) access token up to its exact expiry and refuses it from the next millisecond', async () => {
      const session = await auth.register({ login: uniqueLogin('ivo'), password: 'correct horse' }, PEER);
      const subject = { ...(await auth.verifyAccessToken(session.accessToken)), userId: session.userId, login: session.login };
      expect(await auth.verifyAccessToken(session.accessToken)).to.deep.equal(subject);
      expect(await auth.verifyAccessToken(session.accessToken)).to.deep.equal(subject);
      clock.time = session.accessExpiresAt;
      expect(await auth.verifyAccessToken(session.accessToken)).to.deep.equal(subject);
      clock.advance(1);
      expect(await authError(auth.verifyAccessToken(session.accessToken))).to.include({
        code: 'unauthenticated',
        reason: 'token_expired',
        message: 'access token has expired',
      });
      expect(await authError(auth.verifyAccessToken(session.accessToken + 'x'))).to.include({ reason: 'token_invalid' });
    });

    it('throttles repeated failures for one login from one address, even with the right password, until the delay passes', async () => {
      const login = uniqueLogin('kim');
      await auth.register({ login, password: 'correct horse' }, PEER);
      for (let i = 0; i < 5; i += 1) {
        expect(await authError(auth.login({ login, password: 'wrong horse!' }, `10.0.0.1:${1000 + i}`))).to.include({ code: 'unauthenticated' });
      }
      const throttled = await authError(auth.login({ login: login.toUpperCase(), password: 'correct horse' }, '10.0.0.1:2000'));
      expect(throttled).to.include({ code: 'throttled', retryAfterMs: 1_000 });
      expect(throttled.message).to.equal('too many failed attempts; try again in 1 second');
      clock.advance(1_000);
      await auth.login({ login, password: 'correct horse' }, '10.0.0.1:2001');
      // the success cleared the count of this login from this address
      expect(await authError(auth.login({ login, password: 'wrong horse!' }, '10.0.0.1:2002'))).to.include({ code: 'unauthenticated' });
    });

    it("does not let an attacker's address lock the owner out: the owner still logs in from another address", async () => {
      const login = uniqueLogin('owner');
      await auth.register({ login, password: 'correct horse' }, PEER);
      const attacker = 'ipv4:198.51.100.66:5000';
      for (let i = 0; i < 12; i += 1) await authError(auth.login({ login, password: `guess ${i}` }, attacker));
      expect(await authError(auth.login({ login, password: 'correct horse' }, attacker))).to.include({ code: 'throttled' });
      const session = await auth.login({ login, password: 'correct horse' }, 'ipv4:192.0.2.10:6000');
      expect(session.login).to.equal(login);
    });

    it('caps failures per login across many addresses, but not for an address the login recently succeeded from', async () => {
      const capped = await AuthService.create(db, {
        accessTokenSecretKey: secret,
        config: { bcryptCost: 10, throttle: { maxFailuresPerLogin: 6 } },
        clock: clock.now,
      });
      const login = uniqueLogin('spread');
      await capped.register({ login, password: 'correct horse' }, PEER);
      const home = 'ipv4:192.0.2.77:1';
      await capped.login({ login, password: 'correct horse' }, home);
      for (let i = 0; i < 6; i += 1) await authError(capped.login({ login, password: 'wrong horse!' }, `ipv4:203.0.113.${i}:1`));
      // a new address meets the per-login ceiling; the owner's known address does not
      expect(await authError(capped.login({ login, password: 'correct horse' }, 'ipv4:203.0.113.200:1'))).to.include({ code: 'throttled' });
      expect((await capped.login({ login, password: 'correct horse' }, home)).login).to.equal(login);
    });

    it('throttles a peer that fails across many logins', async () => {
      const peerAuth = await AuthService.create(db, {
        accessTokenSecretKey: secret,
        config: { bcryptCost: 10, throttle: { maxFailuresPerPeer: 3 } },
        clock: clock.now,
      });
      const login = uniqueLogin('lena');
      await peerAuth.register({ login, password: 'correct horse' }, PEER);
      for (let i = 0; i < 3; i += 1) await authError(peerAuth.login({ login: uniqueLogin('guess'), password: 'wrong horse!' }, 'ipv4:198.51.100.1:1234'));
      const throttled = await authError(peerAuth.login({ login, password: 'correct horse' }, 'ipv4:198.51.100.1:9999'));
      expect(throttled).to.include({ code: 'throttled', retryAfterMs: 1_000 });
      await peerAuth.login({ login, password: 'correct horse' }, 'ipv4:198.51.100.2:9999');
      clock.advance(1_000);
      await peerAuth.login({ login, password: 'correct horse' }, 'ipv4:198.51.100.1:9999');
    });

    it("does not count a register's \"login already taken\" toward the address's login failures", async () => {
      const peerAuth = await AuthService.create(db, {
        accessTokenSecretKey: secret,
        config: { bcryptCost: 10, throttle: { maxFailuresPerPeer: 3 } },
        clock: clock.now,
      });
      const racer = 'ipv4:198.51.100.9:1';
      const login = uniqueLogin('race');
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => peerAuth.register({ login, password: 'correct horse' }, racer)));
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as AuthError).code] : []));
      expect(refused).to.deep.equal(Array(5).fill('already_exists'));
      // the winner (and anyone else at that address) can still log in
      expect((await peerAuth.login({ login, password: 'correct horse' }, racer)).login).to.equal(login);
    });

    it('counts concurrent attempts, so a parallel burst from one address is throttled too', async () => {
      const login = uniqueLogin('mia');
      await auth.register({ login, password: 'correct horse' }, PEER);
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => auth.login({ login, password: 'wrong horse!' }, `10.1.0.1:${i}`)));
      const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as AuthError).code : 'ok'));
      expect(codes.filter((c) => c === 'unauthenticated')).to.have.length(5);
      expect(codes.filter((c) => c === 'throttled')).to.have.length(7);
    });

    it('rehashes a password made with a lower cost on a good login', async () => {
      const login = uniqueLogin('nina');
      const session = await auth.register({ login, password: 'correct horse' }, PEER);
      const stronger = await AuthService.create(db, { accessTokenSecretKey: secret, config: { bcryptCost: 11 } });
      await stronger.login({ login, password: 'correct horse' }, PEER);
      const [row] = await db.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE user_id = $1`, [session.userId]);
      expect(row?.password_hash).to.match(/^\$2[aby]\$11\$/);
      await auth.login({ login, password: 'correct horse' }, PEER); // the old cost still verifies it
    });
  });
}
