import { expect } from 'chai';
import { checkSecretWord, SECRET_WORD_MIN_LENGTH } from '../../src/client/secret-word-policy.js';

describe('the secret word rule', () => {
  it('refuses words under the minimum length, counted in characters after normalisation', async () => {
    expect(await checkSecretWord('a')).to.deep.equal({ ok: false, reason: 'the secret word is too short (1 character): use at least 10, for example three or four unrelated words' });
    expect(SECRET_WORD_MIN_LENGTH).to.equal(10);
    // Nine emoji are nine characters (18 UTF-16 units, 36 bytes): still too short.
    expect((await checkSecretWord('🔑'.repeat(9))).ok).to.equal(false);
  });

  it('refuses long but guessable words, saying why, and accepts a few unrelated words', async () => {
    for (const weak of ['moon river', 'password123', 'qwertyuiopasdf', 'aaaaaaaaaaaa', '1234567890']) {
      const verdict = await checkSecretWord(weak);
      expect(verdict.ok, weak).to.equal(false);
      expect(!verdict.ok && verdict.reason, weak).to.match(/^the secret word is too easy to guess/);
    }
    // The login is the first thing an attacker tries.
    expect((await checkSecretWord('margaretha-7', ['margaretha'])).ok).to.equal(false);
    for (const strong of ['amber quarry lantern', 'violet harbour kettle 1987', 'Tr0ub4dor&3xq']) {
      expect(await checkSecretWord(strong), strong).to.deep.equal({ ok: true });
    }
  });
});
