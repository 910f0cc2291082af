import { expect } from 'chai';
import { describeStrength, isPasswordField, passwordStrengths } from '../../../src/client/core/strength.js';

/** The strength estimate told on save: zxcvbn's, for password fields only, advice and never a refusal. */
describe('client core: password strength', function () {
  this.timeout(30_000);

  it('estimates password fields only: sensitive text named like a password', () => {
    expect(isPasswordField({ name: 'password', value: 'x', sensitive: true })).to.equal(true);
    expect(isPasswordField({ name: 'Passphrase', value: 'x', sensitive: true })).to.equal(true);
    expect(isPasswordField({ name: 'password', value: 'x', sensitive: false })).to.equal(false);
    expect(isPasswordField({ name: 'number', value: '4111', sensitive: true })).to.equal(false);
    expect(isPasswordField({ name: 'otp password', value: 'JBSWY3DPEHPK3PXP', sensitive: true, kind: 'totp' })).to.equal(false);
    expect(isPasswordField({ name: 'password', value: '', sensitive: true })).to.equal(false);
  });

  it('calls a common password very weak with advice, and a long random one very strong', async () => {
    const [weak, strong] = await passwordStrengths(
      [
        { name: 'password', value: 'password1', sensitive: true },
        { name: 'user', value: 'erin', sensitive: false },
        { name: 'pass2', value: 'q7#Lw9!vTz2@Rm4$Kx8^', sensitive: true },
      ],
      ['Mail'],
    );
    expect(weak).to.include({ field: 'password', score: 0, label: 'very weak' });
    expect(describeStrength(weak!)).to.match(/^password: very weak \(0\/4\), guessed in .+ by an offline attacker\. .+/);
    expect(strong).to.include({ field: 'pass2', score: 4, label: 'very strong' });
    expect(describeStrength(strong!)).to.not.contain('q7#');
  });

  it('counts the record\'s own words against a password built from them', async () => {
    const [built] = await passwordStrengths([{ name: 'password', value: 'erinmail', sensitive: true }, { name: 'user', value: 'erinmail', sensitive: false }]);
    expect(built!.score).to.be.at.most(1);
  });
});
