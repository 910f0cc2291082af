import { expect } from 'chai';
import {
  generateVaultKey,
  PROTECTED_KEY_PREFIX,
  protectKeyForSession,
  recoverKeyFromSession,
  SessionKeyMismatch,
} from '../../../src/client/crypto/index.js';
import { flipChar } from './helpers.js';

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(SessionKeyMismatch);
    expect((error as SessionKeyMismatch).code).to.equal('session_key_mismatch');
    return (error as SessionKeyMismatch).reason;
  }
  throw new Error('expected SessionKeyMismatch');
}

describe('client crypto: session key (keeper unlock)', () => {
  const vaultKey = generateVaultKey();

  it('round-trips; the secret is env-var friendly and neither half contains the key', () => {
    const { sessionSecret, protectedKey } = protectKeyForSession(vaultKey);
    expect(sessionSecret).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(protectedKey.startsWith(PROTECTED_KEY_PREFIX)).to.equal(true);
    expect(protectedKey).to.match(/^kps1\.[A-Za-z0-9_-]{80}$/);
    for (const text of [sessionSecret, protectedKey]) {
      expect(text).to.not.include(vaultKey.toString('base64url').slice(0, 20));
    }
    expect(recoverKeyFromSession(protectedKey, sessionSecret).equals(vaultKey)).to.equal(true);
    expect(recoverKeyFromSession(protectedKey + '\n', sessionSecret + '\n').equals(vaultKey)).to.equal(true);
  });

  it('gives a new secret each time', () => {
    const a = protectKeyForSession(vaultKey);
    const b = protectKeyForSession(vaultKey);
    expect(a.sessionSecret).to.not.equal(b.sessionSecret);
    expect(a.protectedKey).to.not.equal(b.protectedKey);
    expect(reasonOf(() => recoverKeyFromSession(a.protectedKey, b.sessionSecret))).to.equal('mismatch');
  });

  it('throws SessionKeyMismatch on a tampered key or secret', () => {
    const { sessionSecret, protectedKey } = protectKeyForSession(vaultKey);
    expect(reasonOf(() => recoverKeyFromSession(flipChar(protectedKey, 10), sessionSecret))).to.equal('mismatch');
    expect(reasonOf(() => recoverKeyFromSession(protectedKey, flipChar(sessionSecret, 3)))).to.equal('mismatch');
    expect(reasonOf(() => recoverKeyFromSession(protectedKey, sessionSecret.slice(1)))).to.equal('malformed_secret');
    expect(reasonOf(() => recoverKeyFromSession(protectedKey, ''))).to.equal('malformed_secret');
    expect(reasonOf(() => recoverKeyFromSession(protectedKey.slice(0, -4), sessionSecret))).to.equal('malformed_key');
    expect(reasonOf(() => recoverKeyFromSession('kpr1.' + protectedKey.slice(5), sessionSecret))).to.equal('malformed_key');
    expect(reasonOf(() => recoverKeyFromSession('', sessionSecret))).to.equal('malformed_key');
  });

  it('refuses to protect something that is not a vault key', () => {
    expect(() => protectKeyForSession(Buffer.alloc(31, 1))).to.throw(TypeError);
    expect(() => protectKeyForSession(Buffer.alloc(32))).to.throw(TypeError, /wiped/);
  });
});
