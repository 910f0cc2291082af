import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { KeeperFailure } from '../../../src/client/core/failures.js';
import {
  CHARACTER_CLASSES,
  describeEntropy,
  generatePassphrase,
  generatePassword,
  LOOK_ALIKES,
  passwordEntropy,
  wordList,
} from '../../../src/client/core/generator.js';

/**
 * The generator: what it draws from, that every choice is equally likely (a chi-square test, at a
 * level where a fair draw fails once in a million runs, and shown able to catch a modulo bias),
 * and that the entropy it states is exact.
 */

/** The chi-square statistic of counts against expected counts. */
function chiSquare(counts: number[], expected: number[]): number {
  return counts.reduce((sum, count, i) => sum + (count - expected[i]!) ** 2 / expected[i]!, 0);
}

/** The chi-square value a fair draw exceeds with probability 1e-6 (Wilson-Hilferty), for `df` degrees of freedom. */
function critical(df: number): number {
  const z = 4.753;
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

function countChars(text: string, alphabet: string): number[] {
  const counts = new Array<number>(alphabet.length).fill(0);
  for (const c of text) counts[alphabet.indexOf(c)]!++;
  return counts;
}

describe('client core: password and passphrase generator', () => {
  const all = Object.values(CHARACTER_CLASSES).join('');

  it('draws every character of the alphabet equally often (chi-square)', () => {
    let text = '';
    // Long passwords: the one-of-each-kind rule almost never draws again, so the bare draw is seen.
    while (text.length < 180_000) text += generatePassword({ length: 128, classes: ['lower', 'upper', 'digits', 'symbols'] }).value;
    const counts = countChars(text, all);
    expect(counts.every((n) => n > 0)).to.equal(true);
    const expected = counts.map(() => text.length / all.length);
    expect(chiSquare(counts, expected)).to.be.below(critical(all.length - 1));
  });

  it('the same test catches a draw with modulo bias (so it is able to fail)', () => {
    let text = '';
    // What a careless generator does: a random byte reduced modulo the alphabet's size.
    for (let i = 0; i < 180_000; i++) text += all[randomInt(256) % all.length];
    const counts = countChars(text, all);
    expect(chiSquare(counts, counts.map(() => text.length / all.length))).to.be.above(critical(all.length - 1));
  });

  it('draws passphrase words equally often (chi-square over the first two dice)', () => {
    const list = wordList();
    const bucketOf = new Map(list.map((word, index) => [word, Math.floor(index / 216)]));
    const counts = new Array<number>(36).fill(0);
    let words = 0;
    while (words < 72_000) {
      for (const word of generatePassphrase({ words: 20, separator: ' ' }).value.split(' ')) {
        counts[bucketOf.get(word)!]!++;
        words++;
      }
    }
    expect(chiSquare(counts, counts.map(() => words / 36))).to.be.below(critical(35));
  });

  it('ships the EFF large word list whole: 7,776 distinct words in dice order', () => {
    const list = wordList();
    expect(list).to.have.length(7776);
    expect(new Set(list).size).to.equal(7776);
    expect(list[0]).to.equal('abacus');
    expect(list.at(-1)).to.equal('zoom');
    // The EFF list is alphabetical in dice order (11111 abacus ... 66666 zoom).
    expect([...list].sort()).to.deep.equal(list);
  });

  it('holds one of each chosen kind, of the length asked, and leaves out look-alikes when asked', () => {
    for (let i = 0; i < 300; i++) {
      const { value } = generatePassword({ length: 4, avoidLookAlikes: true });
      expect(value).to.have.length(4);
      for (const chars of Object.values(CHARACTER_CLASSES)) expect([...value].some((c) => chars.includes(c)), value).to.equal(true);
      for (const c of LOOK_ALIKES) expect(value).to.not.contain(c);
    }
    expect(generatePassword({ length: 30, classes: ['digits'] }).value).to.match(/^\d{30}$/);
  });

  it('states the exact entropy: every string, less those missing a chosen kind', () => {
    expect(generatePassword({ length: 10, classes: ['digits'] }).entropyBits).to.be.closeTo(10 * Math.log2(10), 1e-9);
    // Two kinds of 1 character each, length 2: "ab" and "ba" only.
    expect(passwordEntropy(2, [1, 1])).to.equal(1);
    // Lower and digits, length 2: 36^2 - 26^2 - 10^2 = 520.
    expect(passwordEntropy(2, [26, 10])).to.be.closeTo(Math.log2(520), 1e-9);
    expect(generatePassword().entropyBits).to.be.closeTo(129.689, 0.001);
    const phrase = generatePassphrase({ words: 6, capitalise: true, separator: '.' });
    expect(phrase.value).to.match(/^([A-Z][a-z-]+\.){5}[A-Z][a-z-]+$/);
    expect(phrase.entropyBits).to.be.closeTo(6 * Math.log2(7776), 1e-9);
    expect(describeEntropy(phrase.entropyBits)).to.equal('77 bits of entropy (strong)');
  });

  it('refuses impossible options with a sentence', () => {
    const refused = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).to.be.instanceOf(KeeperFailure);
        return (error as KeeperFailure).message;
      }
      throw new Error('not refused');
    };
    expect(refused(() => generatePassword({ length: 3 }))).to.match(/length must be a whole number from 4 to 128/);
    expect(refused(() => generatePassword({ classes: [] }))).to.match(/at least one kind of character/);
    expect(refused(() => generatePassphrase({ words: 2 }))).to.match(/number of words must be a whole number from 3 to 20/);
    expect(refused(() => generatePassphrase({ separator: '\n' }))).to.match(/separator/);
  });
});
