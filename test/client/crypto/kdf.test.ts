import { scryptSync } from 'node:crypto';
import { expect } from 'chai';
import {
  deriveKek,
  InvalidSecretWord,
  kdfParamsSchema,
  MalformedEnvelope,
  newKdfParams,
  parseKdfParams,
  SCRYPT_DEFAULTS,
  UnsafeKdfParams,
  type KdfParams,
} from '../../../src/client/crypto/index.js';

const SALT = Buffer.alloc(16, 7).toString('base64');
const good: KdfParams = { alg: 'scrypt', N: 2 ** 15, r: 8, p: 1, salt: SALT, dkLen: 32 };
const weak = { allowWeakForTests: true };

function refused(input: unknown, options = {}): UnsafeKdfParams {
  try {
    parseKdfParams(input, options);
  } catch (error) {
    expect(error).to.be.instanceOf(UnsafeKdfParams);
    expect(error).to.be.instanceOf(MalformedEnvelope);
    return error as UnsafeKdfParams;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('client crypto: kdf (scrypt)', () => {
  it('defaults to N = 2^17, r = 8, p = 1 with a fresh 16-byte salt', () => {
    const a = newKdfParams();
    const b = newKdfParams();
    expect(a).to.include({ alg: 'scrypt', N: 2 ** 17, r: 8, p: 1, dkLen: 32 });
    expect(SCRYPT_DEFAULTS).to.deep.equal({ N: 2 ** 17, r: 8, p: 1 });
    expect(Buffer.from(a.salt, 'base64')).to.have.length(16);
    expect(a.salt).to.not.equal(b.salt);
  });

  it('accepts sane stored parameters, including the upper bounds', () => {
    expect(parseKdfParams(good)).to.deep.equal(good);
    expect(parseKdfParams({ ...good, N: 2 ** 20, r: 8, p: 4 })).to.include({ N: 2 ** 20 });
    expect(parseKdfParams({ ...good, N: 2 ** 19, r: 16 })).to.include({ r: 16 });
    expect(kdfParamsSchema().safeParse(good).success).to.equal(true);
  });

  it('refuses weak parameters (a hostile server cannot make the client weak)', () => {
    expect(refused({ ...good, N: 2 ** 14 }).message).to.match(/N must be at least 2\^15/);
    refused({ ...good, N: 2 ** 10 });
    refused({ ...good, r: 1 });
    refused({ ...good, p: 0 });
    refused({ ...good, salt: Buffer.alloc(8).toString('base64') }); // short salt
    refused({ ...good, salt: '' });
  });

  it('refuses hostile parameters that would exhaust memory or time', () => {
    refused({ ...good, N: 2 ** 21 });
    refused({ ...good, N: 2 ** 30 });
    refused({ ...good, N: Number.MAX_SAFE_INTEGER + 1 });
    refused({ ...good, r: 17 });
    refused({ ...good, p: 5 });
    expect(refused({ ...good, N: 2 ** 20, r: 16 }).message).to.match(/MiB of memory/); // 2 GiB
    refused({ ...good, salt: Buffer.alloc(65).toString('base64') });
  });

  it('refuses malformed parameters', () => {
    refused(null);
    refused('scrypt');
    refused({ ...good, alg: 'pbkdf2' });
    refused({ ...good, N: 3 * 2 ** 15 }); // not a power of two
    refused({ ...good, N: 2 ** 15 + 0.5 });
    refused({ ...good, N: '32768' });
    refused({ ...good, dkLen: 64 });
    refused({ ...good, salt: 'not base64!' });
    refused({ ...good, salt: SALT.replace(/=+$/, '') }); // non-canonical (unpadded)
    refused({ ...good, extra: 1 });
    const { salt: _salt, ...withoutSalt } = good;
    refused(withoutSalt);
  });

  it('allows weak parameters only with the explicit test option, and never below 2^10', () => {
    refused({ ...good, N: 2 ** 10 });
    expect(parseKdfParams({ ...good, N: 2 ** 10 }, weak)).to.include({ N: 2 ** 10 });
    refused({ ...good, N: 2 ** 9 }, weak);
    expect(() => newKdfParams({ N: 2 ** 10 })).to.throw(UnsafeKdfParams);
  });

  it('derives a deterministic 32-byte key from word + parameters', async () => {
    const params = newKdfParams({ N: 2 ** 10 }, weak);
    const a = await deriveKek('correct horse', params, weak);
    const b = await deriveKek('correct horse', params, weak);
    const c = await deriveKek('correct horse ', params, weak); // no trimming
    const d = await deriveKek('correct horse', newKdfParams({ N: 2 ** 10 }, weak), weak); // other salt
    expect(a).to.have.length(32);
    expect(a.equals(b)).to.equal(true);
    expect(a.equals(c)).to.equal(false);
    expect(a.equals(d)).to.equal(false);
  });

  it('is plain scrypt over the NFKC UTF-8 word and the decoded salt', async () => {
    const params = newKdfParams({ N: 2 ** 10, r: 9, p: 2 }, weak);
    const expected = scryptSync(Buffer.from('fi', 'utf8'), Buffer.from(params.salt, 'base64'), 32, { N: 2 ** 10, r: 9, p: 2 });
    const kek = await deriveKek('\ufb01', params, weak); // the "ﬁ" ligature normalises to "fi"
    expect(kek.equals(expected)).to.equal(true);
  });

  it('re-validates parameters when deriving (weak ones need the test option)', async () => {
    const params = newKdfParams({ N: 2 ** 10 }, weak);
    let error: unknown;
    await deriveKek('word', params).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(UnsafeKdfParams);
  });

  it('normalises the secret word with NFKC (composed, decomposed, full-width forms agree)', async () => {
    const params = newKdfParams({ N: 2 ** 10 }, weak);
    const composed = 'caf\u00e9 \u00c5ngstr\u00f6m';
    const decomposed = 'cafe\u0301 A\u030angstro\u0308m';
    expect(composed).to.not.equal(decomposed);
    const a = await deriveKek(composed, params, weak);
    const b = await deriveKek(decomposed, params, weak);
    expect(a.equals(b)).to.equal(true);
    const fullWidth = await deriveKek('\uff4b\uff45\uff59', params, weak); // ｋｅｙ
    const ascii = await deriveKek('key', params, weak);
    expect(fullWidth.equals(ascii)).to.equal(true);
    const upper = await deriveKek('KEY', params, weak); // no case folding
    expect(upper.equals(ascii)).to.equal(false);
  });

  it('refuses an empty secret word', async () => {
    const params = newKdfParams({ N: 2 ** 10 }, weak);
    let error: unknown;
    await deriveKek('', params, weak).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(InvalidSecretWord);
  });

  it('takes a measurable time with the default parameters (128 MiB)', async function () {
    this.timeout(30_000);
    const params = newKdfParams();
    const started = process.hrtime.bigint();
    const kek = await deriveKek('a secret word', params);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`      default scrypt (N=2^17, r=8, p=1) took ${ms.toFixed(0)} ms`);
    expect(kek).to.have.length(32);
    expect(ms).to.be.greaterThan(50);
  });
});
