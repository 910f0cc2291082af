import { expect } from 'chai';
import { Secret } from 'otpauth';
import { KeeperFailure } from '../../../src/client/core/failures.js';
import { checkTotpValue, oneTimeCode, totpFields } from '../../../src/client/core/totp.js';

/** One-time codes against RFC 6238's own test vectors (Appendix B), for each of its hash functions. */
describe('client core: one-time codes (RFC 6238)', () => {
  const seeds = {
    SHA1: '12345678901234567890',
    SHA256: '12345678901234567890123456789012',
    SHA512: '1234567890123456789012345678901234567890123456789012345678901234',
  } as const;
  // [Unix seconds, SHA1, SHA256, SHA512], 8 digits, a 30-second step.
  const vectors: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  const uri = (algorithm: keyof typeof seeds) => `otpauth://totp/RFC6238:test?secret=${Secret.fromLatin1(seeds[algorithm]).base32}&algorithm=${algorithm}&digits=8&period=30&issuer=RFC6238`;

  for (const [index, algorithm] of (['SHA1', 'SHA256', 'SHA512'] as const).entries()) {
    it(`gives the RFC's codes for ${algorithm}`, () => {
      for (const vector of vectors) {
        const code = oneTimeCode(uri(algorithm), vector[0] * 1000);
        expect(code.code, `${algorithm} at ${vector[0]}`).to.equal(vector[index + 1]);
        expect(code).to.include({ digits: 8, period: 30, algorithm, issuer: 'RFC6238' });
      }
    });
  }

  it('a bare base32 secret uses what every service uses: 6 digits, 30 seconds, SHA-1 (the RFC code, last 6 digits)', () => {
    const base32 = Secret.fromLatin1(seeds.SHA1).base32;
    expect(oneTimeCode(base32, 59_000).code).to.equal('287082');
    // As services print it: lower case, in groups.
    expect(oneTimeCode(base32.toLowerCase().replace(/(.{4})/g, '$1 '), 1111111109_000).code).to.equal('081804');
  });

  it('says how many seconds the code has left', () => {
    const base32 = Secret.fromLatin1(seeds.SHA1).base32;
    expect(oneTimeCode(base32, 59_000).secondsLeft).to.equal(1);
    expect(oneTimeCode(base32, 60_000).secondsLeft).to.equal(30);
    expect(oneTimeCode(base32, 75_500).secondsLeft).to.equal(15);
  });

  it('refuses what is not a one-time-code secret with a sentence that does not repeat the value', () => {
    for (const bad of ['not base32 at all!', 'otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQ&counter=1', 'GEZDGNBV', 'otpauth://totp/x']) {
      let caught: unknown;
      try {
        checkTotpValue(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught, bad).to.be.instanceOf(KeeperFailure);
      expect((caught as KeeperFailure).kind).to.equal('invalid');
      expect((caught as KeeperFailure).message).to.match(/^not a one-time-code secret/);
      expect((caught as KeeperFailure).message).to.not.contain(bad);
    }
  });

  it('lists the readable one-time-code fields of a record (a sealed one while locked has no code)', () => {
    const fields = [
      { name: 'user', value: 'me', sensitive: false },
      { name: 'otp', value: 'JBSWY3DPEHPK3PXP', sensitive: true, kind: 'totp' as const },
      { name: 'backup otp', value: 'kpr1.sealed', sensitive: true, kind: 'totp' as const },
    ];
    expect(totpFields({ fields, unreadable: ['backup otp'] }).map((f) => f.name)).to.deep.equal(['otp']);
  });
});
