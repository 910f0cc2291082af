import { expect } from 'chai';
import { AccessTokenError, TokenIssuer } from '../../../src/server/auth/tokens.js';
import { VerifiedTokenCache } from '../../../src/server/auth/verified-token-cache.js';
import { FakeClock, rejection } from './helpers.js';

const user = { userId: '7b0c6b0e-8f43-4a65-9f6a-0d5a3a0f5e11', login: 'Alice', sessionId: '0d9e7c52-6a1f-4b7e-9c1e-3f2a5b6c7d80' };

async function failure(issuer: TokenIssuer, token: string): Promise<AccessTokenError> {
  const error = await rejection(issuer.verify(token));
  expect(error).to.be.instanceOf(AccessTokenError);
  return error as AccessTokenError;
}

describe('verified access-token cache', () => {
  describe('VerifiedTokenCache', () => {
    const entry = (expiresAt: number, validFrom = 0) => ({ subject: { ...user }, expiresAt, validFrom });

    it('answers for a remembered token until exp (inclusive), then says expired and forgets it', () => {
      const cache = new VerifiedTokenCache<typeof user>();
      expect(cache.get('t', 1_000)).to.deep.equal({ kind: 'miss' });
      cache.set('t', entry(5_000));
      expect(cache.get('t', 1_000)).to.deep.equal({ kind: 'valid', subject: user });
      expect(cache.get('t', 5_000)).to.deep.equal({ kind: 'valid', subject: user });
      expect(cache.get('t', 5_001)).to.deep.equal({ kind: 'expired' });
      expect(cache.size).to.equal(0);
      expect(cache.get('t', 5_001)).to.deep.equal({ kind: 'miss' });
    });

    it('keys on the exact token string', () => {
      const cache = new VerifiedTokenCache<typeof user>();
      cache.set('v4.public.abc', entry(5_000));
      expect(cache.get('v4.public.abC', 1_000).kind).to.equal('miss');
      expect(cache.get('v4.public.abc ', 1_000).kind).to.equal('miss');
      expect(cache.get('v4.public.ab', 1_000).kind).to.equal('miss');
    });

    it('allows the same clock tolerance as the full check', () => {
      const cache = new VerifiedTokenCache<typeof user>(10, 2_000);
      cache.set('t', entry(5_000, 3_000));
      expect(cache.get('t', 7_000).kind).to.equal('valid');
      expect(cache.get('t', 7_001).kind).to.equal('expired');
      cache.set('t', entry(5_000, 3_000));
      expect(cache.get('t', 1_000).kind).to.equal('valid');
      // Before iat/nbf (minus the tolerance) only a clock that went back: the full check decides.
      expect(cache.get('t', 999).kind).to.equal('miss');
    });

    it('is bounded, evicting the least recently used token', () => {
      const cache = new VerifiedTokenCache<typeof user>(2);
      cache.set('a', entry(5_000));
      cache.set('b', entry(5_000));
      expect(cache.get('a', 0).kind).to.equal('valid'); // a is now the most recent
      cache.set('c', entry(5_000));
      expect(cache.size).to.equal(2);
      expect(cache.get('b', 0).kind).to.equal('miss');
      expect(cache.get('a', 0).kind).to.equal('valid');
      expect(cache.get('c', 0).kind).to.equal('valid');
    });

    it('can be turned off, and refuses a bad capacity', () => {
      const cache = new VerifiedTokenCache<typeof user>(0);
      cache.set('a', entry(5_000));
      expect(cache.size).to.equal(0);
      expect(cache.get('a', 0).kind).to.equal('miss');
      expect(() => new VerifiedTokenCache(-1)).to.throw(RangeError);
      expect(() => new VerifiedTokenCache(1.5)).to.throw(RangeError);
    });
  });

  describe('TokenIssuer.verify with the cache', () => {
    let secret: string;

    before(async () => {
      secret = await TokenIssuer.generateSecretKey();
    });

    it('remembers a verified token and answers from it, with a copy of the subject', async () => {
      const issuer = await TokenIssuer.fromSecretKey(secret);
      const { token } = await issuer.issue(user);
      expect(issuer.cachedVerifications).to.equal(0);
      const first = await issuer.verify(token);
      expect(first).to.deep.equal(user);
      expect(issuer.cachedVerifications).to.equal(1);
      first.login = 'Mallory';
      expect(await issuer.verify(token)).to.deep.equal(user);
      expect(issuer.cachedVerifications).to.equal(1);
    });

    it('skips the signature check for a remembered token', async () => {
      const issuer = await TokenIssuer.fromSecretKey(secret);
      const { token } = await issuer.issue(user);
      await issuer.verify(token);
      const uncached = await TokenIssuer.fromSecretKey(secret, { verifiedCacheSize: 0 });
      const time = async (verifier: TokenIssuer) => {
        const started = process.hrtime.bigint();
        for (let i = 0; i < 200; i++) await verifier.verify(token);
        return Number(process.hrtime.bigint() - started);
      };
      expect(uncached.cachedVerifications).to.equal(0);
      // Loose on purpose (shared machines): an Ed25519 check costs far more than a map lookup.
      expect(await time(issuer)).to.be.below(await time(uncached));
    });

    it('still refuses a cached token from the exact moment it expires', async () => {
      const clock = new FakeClock(Date.UTC(2030, 0, 1, 12, 0, 0, 250));
      const issuer = await TokenIssuer.fromSecretKey(secret, { ttlSeconds: 60, now: clock.now });
      const { token, expiresAt } = await issuer.issue(user);
      expect(await issuer.verify(token)).to.deep.equal(user);
      expect(issuer.cachedVerifications).to.equal(1);
      clock.time = expiresAt;
      expect(await issuer.verify(token)).to.deep.equal(user);
      clock.advance(1);
      const error = await failure(issuer, token);
      expect(error.reason).to.equal('expired');
      expect(error.message).to.equal('access token has expired');
      expect(issuer.cachedVerifications).to.equal(0);
      expect((await failure(issuer, token)).reason).to.equal('expired');
      // Going back in time does not resurrect it from the cache: the full check decides again.
      clock.time = expiresAt - 1_000;
      expect(await issuer.verify(token)).to.deep.equal(user);
    });

    it('honours the clock tolerance on the cached path exactly as the full check does', async () => {
      const clock = new FakeClock();
      const issuer = await TokenIssuer.fromSecretKey(secret, { ttlSeconds: 60, clockToleranceSeconds: 5, now: clock.now });
      const { token, expiresAt } = await issuer.issue(user);
      await issuer.verify(token);
      clock.time = expiresAt + 5_000;
      expect(await issuer.verify(token)).to.deep.equal(user);
      clock.advance(1);
      expect((await failure(issuer, token)).reason).to.equal('expired');
    });

    it('never remembers a forged, foreign, malformed or expired token', async () => {
      const clock = new FakeClock();
      const issuer = await TokenIssuer.fromSecretKey(secret, { ttlSeconds: 60, now: clock.now });
      const other = await TokenIssuer.fromSecretKey(await TokenIssuer.generateSecretKey(), { now: clock.now });
      const { token } = await issuer.issue(user);
      const foreign = (await other.issue(user)).token;
      const flipped = token.slice(0, -5) + (token.at(-5) === 'A' ? 'B' : 'A') + token.slice(-4);
      for (const bad of [foreign, flipped, 'garbage', 'v4.public.']) {
        expect((await failure(issuer, bad)).reason, bad).to.equal('invalid');
        expect((await failure(issuer, bad)).reason, `${bad} again`).to.equal('invalid');
      }
      expect(issuer.cachedVerifications).to.equal(0);
      clock.advance(61_000);
      expect((await failure(issuer, token)).reason).to.equal('expired');
      expect(issuer.cachedVerifications).to.equal(0);
    });

    it('a genuine token that verified does not make a tampered copy of it pass', async () => {
      const issuer = await TokenIssuer.fromSecretKey(secret);
      const { token } = await issuer.issue(user);
      await issuer.verify(token);
      const bytes = Buffer.from(token.slice('v4.public.'.length), 'base64url');
      const message = bytes.subarray(0, bytes.length - 64).toString('utf8').replace('"login":"Alice"', '"login":"Admin"');
      const forged = 'v4.public.' + Buffer.concat([Buffer.from(message, 'utf8'), bytes.subarray(bytes.length - 64)]).toString('base64url');
      expect((await failure(issuer, forged)).reason).to.equal('invalid');
      expect(issuer.cachedVerifications).to.equal(1);
    });
  });
});
