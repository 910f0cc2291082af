import { expect } from 'chai';
import { PublicProtocol } from 'paseto';
import { ImportSecretKeyFactory, SignFactory } from 'paseto/v4/public';
import { AccessTokenError, TokenIssuer } from '../../../src/server/auth/tokens.js';
import { FakeClock, rejection } from './helpers.js';

const user = { userId: '7b0c6b0e-8f43-4a65-9f6a-0d5a3a0f5e11', login: 'Alice', sessionId: '0d9e7c52-6a1f-4b7e-9c1e-3f2a5b6c7d80' };

async function failure(issuer: TokenIssuer, token: string): Promise<AccessTokenError> {
  const error = await rejection(issuer.verify(token));
  expect(error).to.be.instanceOf(AccessTokenError);
  return error as AccessTokenError;
}

/** Replaces `from` by `to` in the signed payload of a v4.public token, keeping its signature. */
function tamper(token: string, from: string, to: string): string {
  const prefix = 'v4.public.';
  const bytes = Buffer.from(token.slice(prefix.length), 'base64url');
  const message = bytes.subarray(0, bytes.length - 64).toString('utf8');
  const signature = bytes.subarray(bytes.length - 64);
  expect(message).to.include(from);
  return prefix + Buffer.concat([Buffer.from(message.replace(from, to), 'utf8'), signature]).toString('base64url');
}

describe('auth access tokens', () => {
  let secret: string;

  before(async () => {
    secret = await TokenIssuer.generateSecretKey();
  });

  it('generates a PASERK k4.secret key', async () => {
    expect(secret).to.match(/^k4\.secret\.[A-Za-z0-9_-]+$/);
    expect(await TokenIssuer.generateSecretKey()).not.to.equal(secret);
  });

  it('refuses a key that is not a k4.secret PASERK, without echoing it', async () => {
    for (const bad of ['', 'k4.secret.AAAA', 'k4.local.' + 'A'.repeat(43), secret.replace('k4.', 'k3.')]) {
      const error = await rejection(TokenIssuer.fromSecretKey(bad));
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.equal('access token key is not a valid PASERK k4.secret key');
    }
  });

  it('issues a v4.public token that verifies to the same user, with aud/iss "keeper"', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 12, 0, 0, 750));
    const issuer = await TokenIssuer.fromSecretKey(secret, { now: clock.now });
    const { token, expiresAt } = await issuer.issue(user);
    expect(token).to.match(/^v4\.public\./);
    // exp has second precision: counted from the whole second of issue
    expect(expiresAt).to.equal(Date.UTC(2030, 0, 1, 12, 15, 0, 0));
    expect(await issuer.verify(token)).to.deep.equal(user);

    const claims = JSON.parse(Buffer.from(token.slice('v4.public.'.length), 'base64url').subarray(0, -64).toString('utf8'));
    expect(claims).to.include({ sub: user.userId, login: 'Alice', sid: user.sessionId, aud: 'keeper', iss: 'keeper', exp: '2030-01-01T12:15:00Z' });
  });

  it('honours the TTL and reports an expired token as expired', async () => {
    const clock = new FakeClock();
    const issuer = await TokenIssuer.fromSecretKey(secret, { ttlSeconds: 60, now: clock.now });
    const { token, expiresAt } = await issuer.issue(user);
    expect(expiresAt).to.equal(clock.time + 60_000);
    clock.advance(60_000);
    expect(await issuer.verify(token)).to.deep.equal(user);
    clock.advance(1);
    const error = await failure(issuer, token);
    expect(error.reason).to.equal('expired');
    expect(error.message).to.equal('access token has expired');
  });

  it('expires on the real clock too (1 s TTL)', async function () {
    this.timeout(5_000);
    const issuer = await TokenIssuer.fromSecretKey(secret, { ttlSeconds: 1 });
    const { token } = await issuer.issue(user);
    expect(await issuer.verify(token)).to.deep.equal(user);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await failure(issuer, token)).reason).to.equal('expired');
  });

  it('refuses a token signed with another key', async () => {
    const issuer = await TokenIssuer.fromSecretKey(secret);
    const other = await TokenIssuer.fromSecretKey(await TokenIssuer.generateSecretKey());
    const { token } = await other.issue(user);
    const error = await failure(issuer, token);
    expect(error.reason).to.equal('invalid');
    expect(error.message).to.equal('access token is invalid');
  });

  it('calls a forged token invalid even when it is also expired', async () => {
    const clock = new FakeClock();
    const issuer = await TokenIssuer.fromSecretKey(secret, { now: clock.now });
    const other = await TokenIssuer.fromSecretKey(await TokenIssuer.generateSecretKey(), { now: clock.now });
    const { token } = await other.issue(user);
    clock.advance(3_600_000);
    expect((await failure(issuer, token)).reason).to.equal('invalid');
  });

  it('refuses a token whose payload was tampered with', async () => {
    const issuer = await TokenIssuer.fromSecretKey(secret);
    const { token } = await issuer.issue(user);
    const forged = tamper(token, '"login":"Alice"', '"login":"Admin"');
    expect((await failure(issuer, forged)).reason).to.equal('invalid');
    const flipped = token.slice(0, -5) + (token.at(-5) === 'A' ? 'B' : 'A') + token.slice(-4);
    expect((await failure(issuer, flipped)).reason).to.equal('invalid');
  });

  it('refuses a genuine signature over the wrong audience or issuer, or without the claims it needs', async () => {
    const issuer = await TokenIssuer.fromSecretKey(secret);
    const v4 = new PublicProtocol(ImportSecretKeyFactory, SignFactory);
    const key = await v4.ImportSecretKey(secret as `k4.secret.${string}`);
    const claims = { sub: user.userId, login: user.login, sid: user.sessionId, aud: 'keeper', iss: 'keeper' };
    const bads = [{ ...claims, aud: 'other' }, { ...claims, iss: 'other' }, { ...claims, login: undefined }, { ...claims, sid: undefined }, { aud: 'keeper', iss: 'keeper' }];
    for (const bad of bads) {
      const token = await v4.Sign(key, JSON.parse(JSON.stringify(bad)), { expiresIn: 60 });
      expect((await failure(issuer, token)).reason, JSON.stringify(bad)).to.equal('invalid');
    }
    const nonExpiring = await v4.Sign(key, claims, { nonExpiring: true });
    expect((await failure(issuer, nonExpiring)).reason).to.equal('invalid');
  });

  it('refuses garbage', async () => {
    const issuer = await TokenIssuer.fromSecretKey(secret);
    for (const token of ['', 'garbage', 'v4.public.', 'v4.local.AAAA', 'v3.public.AAAA']) {
      expect((await failure(issuer, token)).reason, token).to.equal('invalid');
    }
  });
});
