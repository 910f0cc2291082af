import { expect } from 'chai';
import {
  createVaultKey,
  InvalidSecretWord,
  KeeperCryptoError,
  MalformedEnvelope,
  parseEnvelope,
  rewrapVaultKey,
  unwrapVaultKey,
  UnsafeKdfParams,
  WrongSecretWord,
  type VaultKeyEnvelope,
} from '../../../src/client/crypto/index.js';
import { flipChar, OTHER_USER, USER, WEAK } from './helpers.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('client crypto: vault key envelope', () => {
  it('creates a random 256-bit key and a JSON-serialisable envelope that unwraps to it', async () => {
    const { key, envelope } = await createVaultKey('open sesame', USER, WEAK);
    expect(key).to.have.length(32);
    expect(Object.keys(envelope).sort()).to.deep.equal(['kdf', 'userId', 'v', 'wrapped']);
    expect(envelope).to.include({ v: 1, userId: USER });
    expect(envelope.kdf).to.include({ alg: 'scrypt', N: 2 ** 10, r: 8, p: 1, dkLen: 32 });
    expect(Buffer.from(envelope.wrapped, 'base64')).to.have.length(12 + 32 + 16);
    expect(envelope.wrapped).to.not.include(key.toString('base64'));

    const stored = JSON.parse(JSON.stringify(envelope)) as unknown;
    const unwrapped = await unwrapVaultKey(stored, 'open sesame', USER, WEAK);
    expect(unwrapped.equals(key)).to.equal(true);
    expect(parseEnvelope(stored, WEAK)).to.deep.equal(envelope);
  });

  it('uses a new key, salt and nonce every time', async () => {
    const a = await createVaultKey('same word', USER, WEAK);
    const b = await createVaultKey('same word', USER, WEAK);
    expect(a.key.equals(b.key)).to.equal(false);
    expect(a.envelope.kdf.salt).to.not.equal(b.envelope.kdf.salt);
    expect(a.envelope.wrapped.slice(0, 16)).to.not.equal(b.envelope.wrapped.slice(0, 16));
  });

  it('throws WrongSecretWord for a wrong word, and nothing changes', async () => {
    const { key, envelope } = await createVaultKey('right word', USER, WEAK);
    const before = JSON.stringify(envelope);
    for (const word of ['wrong word', 'Right word', 'right word ', '']) {
      const error = await rejection(unwrapVaultKey(envelope, word, USER, WEAK));
      expect(error).to.be.instanceOf(WrongSecretWord);
      expect(error).to.be.instanceOf(KeeperCryptoError);
      expect((error as Error).message).to.equal('the secret word is wrong');
      expect((error as WrongSecretWord).code).to.equal('wrong_secret_word');
    }
    expect(JSON.stringify(envelope)).to.equal(before);
    expect((await unwrapVaultKey(envelope, 'right word', USER, WEAK)).equals(key)).to.equal(true);
  });

  it('unlocks with composed and decomposed forms of a unicode word (NFKC)', async () => {
    const { key, envelope } = await createVaultKey('Gr\u00fc\u00dfe, J\u00fcrgen \u{1F511}', USER, WEAK);
    const decomposed = 'Gru\u0308\u00dfe, Ju\u0308rgen \u{1F511}';
    expect((await unwrapVaultKey(envelope, decomposed, USER, WEAK)).equals(key)).to.equal(true);
  });

  it('binds the envelope to its user', async () => {
    const { envelope } = await createVaultKey('word', USER, WEAK);
    // Presented for another user: refused before any work.
    const moved = await rejection(unwrapVaultKey(envelope, 'word', OTHER_USER, WEAK));
    expect(moved).to.be.instanceOf(MalformedEnvelope);
    expect((moved as Error).message).to.match(/another user/);
    // userId rewritten to the other user: the AAD no longer matches, so the right word fails.
    const relabelled = await rejection(unwrapVaultKey({ ...envelope, userId: OTHER_USER }, 'word', OTHER_USER, WEAK));
    expect(relabelled).to.be.instanceOf(WrongSecretWord);
    // UUIDs compare in lower case, like the domain stores them.
    expect(await unwrapVaultKey(envelope, 'word', USER.toUpperCase(), WEAK)).to.have.length(32);
  });

  it('a tampered wrapped key does not open (reported as a wrong word: GCM cannot tell them apart)', async () => {
    const { envelope } = await createVaultKey('word', USER, WEAK);
    for (const index of [0, 20, envelope.wrapped.length - 4]) {
      const tampered: VaultKeyEnvelope = { ...envelope, wrapped: flipChar(envelope.wrapped, index) };
      expect(await rejection(unwrapVaultKey(tampered, 'word', USER, WEAK))).to.be.instanceOf(WrongSecretWord);
    }
    // Another salt derives another KEK.
    const resalted = { ...envelope, kdf: { ...envelope.kdf, salt: Buffer.alloc(16, 1).toString('base64') } };
    expect(await rejection(unwrapVaultKey(resalted, 'word', USER, WEAK))).to.be.instanceOf(WrongSecretWord);
  });

  it('a malformed envelope throws MalformedEnvelope, not WrongSecretWord', async () => {
    const { envelope } = await createVaultKey('word', USER, WEAK);
    const malformed: unknown[] = [
      null,
      'envelope',
      {},
      { ...envelope, v: 2 },
      { ...envelope, v: '1' },
      { ...envelope, wrapped: envelope.wrapped.slice(0, -4) }, // truncated
      { ...envelope, wrapped: envelope.wrapped + 'AAAA' }, // too long
      { ...envelope, wrapped: '!' + envelope.wrapped.slice(1) },
      { ...envelope, wrapped: 42 },
      { ...envelope, userId: '' },
      { ...envelope, extra: true },
      { ...envelope, kdf: { ...envelope.kdf, alg: 'md5' } },
      { ...envelope, kdf: undefined },
    ];
    for (const candidate of malformed) {
      const error = await rejection(unwrapVaultKey(candidate, 'word', USER, WEAK));
      expect(error, JSON.stringify(candidate)).to.be.instanceOf(MalformedEnvelope);
      expect(error).to.not.be.instanceOf(WrongSecretWord);
    }
    expect(() => parseEnvelope({ ...envelope, v: 2 }, WEAK)).to.throw(MalformedEnvelope, /unsupported version 2/);
  });

  it('refuses weak or hostile KDF parameters in a stored envelope', async () => {
    const { envelope } = await createVaultKey('word', USER, WEAK);
    // Without the test option the weak envelope itself is refused: a server cannot downgrade.
    expect(await rejection(unwrapVaultKey(envelope, 'word', USER))).to.be.instanceOf(UnsafeKdfParams);
    const hostile = { ...envelope, kdf: { ...envelope.kdf, N: 2 ** 24 } };
    const error = await rejection(unwrapVaultKey(hostile, 'word', USER, WEAK));
    expect(error).to.be.instanceOf(UnsafeKdfParams);
    expect((error as UnsafeKdfParams).code).to.equal('unsafe_kdf_params');
  });

  it('creating with weak cost needs the explicit test option', async () => {
    const error = await rejection(createVaultKey('word', USER, { kdf: { N: 2 ** 10 } }));
    expect(error).to.be.instanceOf(UnsafeKdfParams);
  });

  it('refuses an empty secret word when creating', async () => {
    expect(await rejection(createVaultKey('', USER, WEAK))).to.be.instanceOf(InvalidSecretWord);
  });

  it('rewrap keeps the same vault key under a new word and salt; the old word stops working', async () => {
    const { key, envelope } = await createVaultKey('old word', USER, WEAK);
    const rewrapped = await rewrapVaultKey(envelope, 'old word', 'new w\u00f6rd', USER, WEAK);
    expect(rewrapped.kdf.salt).to.not.equal(envelope.kdf.salt);
    expect(rewrapped.wrapped).to.not.equal(envelope.wrapped);
    expect(rewrapped.userId).to.equal(USER);
    expect((await unwrapVaultKey(rewrapped, 'new w\u00f6rd', USER, WEAK)).equals(key)).to.equal(true);
    expect((await unwrapVaultKey(rewrapped, 'new wo\u0308rd', USER, WEAK)).equals(key)).to.equal(true);
    expect(await rejection(unwrapVaultKey(rewrapped, 'old word', USER, WEAK))).to.be.instanceOf(WrongSecretWord);
  });

  it('rewrap with a wrong old word throws WrongSecretWord; an empty new word is refused', async () => {
    const { envelope } = await createVaultKey('old word', USER, WEAK);
    expect(await rejection(rewrapVaultKey(envelope, 'not it', 'new word', USER, WEAK))).to.be.instanceOf(WrongSecretWord);
    expect(await rejection(rewrapVaultKey(envelope, 'old word', '', USER, WEAK))).to.be.instanceOf(InvalidSecretWord);
  });
});
