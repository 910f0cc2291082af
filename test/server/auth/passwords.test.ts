import { expect } from 'chai';
import bcrypt from 'bcrypt';
import { PasswordHasher } from '../../../src/server/auth/passwords.js';

describe('auth passwords', () => {
  const hasher = new PasswordHasher(10);

  it('enforces a bcrypt cost of at least 10 (and a whole number up to 31)', () => {
    for (const cost of [4, 9, 9.5, 32, Number.NaN]) expect(() => new PasswordHasher(cost), String(cost)).to.throw(RangeError);
    expect(new PasswordHasher(10).cost).to.equal(10);
  });

  it('hashes with the configured cost and verifies', async () => {
    const hash = await hasher.hash('correct horse battery');
    expect(hash).to.match(/^\$2[aby]\$10\$/);
    expect(bcrypt.getRounds(hash)).to.equal(10);
    expect(hash).not.to.include('correct horse');
    expect(await hasher.verify('correct horse battery', hash)).to.equal(true);
    expect(await hasher.verify('correct horse batterz', hash)).to.equal(false);
    expect(await hasher.verify('correct horse battery', 'not a bcrypt hash')).to.equal(false);
  });

  it('tells when a hash was made with a lower cost', async () => {
    expect(hasher.needsRehash(await bcrypt.hash('x', 4))).to.equal(true);
    expect(hasher.needsRehash(await hasher.hash('x'))).to.equal(false);
  });

  it('spends a real bcrypt compare on unknown logins', async () => {
    await hasher.warmUp();
    const hash = await hasher.hash('correct horse battery');
    const time = async (fn: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 3; i += 1) await fn();
      return Number(process.hrtime.bigint() - start);
    };
    const real = await time(() => hasher.verify('wrong password!', hash));
    const dummy = await time(() => hasher.verifyDummy('wrong password!'));
    expect(await hasher.verifyDummy('anything at all')).to.equal(false);
    // Same cost, same work: allow for noise, but a skipped compare would be ~1000x faster.
    expect(dummy).to.be.greaterThan(real / 3);
    expect(dummy).to.be.lessThan(real * 3);
  });
});
