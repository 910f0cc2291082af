/**
 * The one rule for a new secret word, for every face of the client (CLI, TUI, later ones). The
 * word protects the vault key against anyone who has the server's copy of its envelope, and
 * unlike the account password no server throttles guesses: only its strength stands between an
 * offline attacker and the sealed values. So a minimum length, and zxcvbn's estimate of how many
 * guesses it takes (dictionaries, names, keyboard patterns, dates, repeats).
 */
import { normaliseSecretWord } from './crypto/index.js';

export const SECRET_WORD_MIN_LENGTH = 10;
/** zxcvbn's score (0-4): 3 is "safely unguessable", about 10^8 guesses or more. */
export const SECRET_WORD_MIN_SCORE = 3;

export type SecretWordVerdict = { ok: true } | { ok: false; reason: string };

export interface Estimator {
  check(word: string, userInputs?: Array<string | number>): { score: number; guessesLog10: number; crackTimes: { offlineSlowHashingXPerSecond: { display: string } }; feedback: { warning: string | null; suggestions: string[] } };
}

let estimator: Promise<Estimator> | undefined;

/** The dictionaries are a few megabytes: loaded on the first check, not when the client starts. */
export function loadEstimator(): Promise<Estimator> {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
    return new ZxcvbnFactory({ translations: en.translations, graphs: common.adjacencyGraphs, dictionary: { ...common.dictionary, ...en.dictionary } });
  })();
  return estimator;
}

/**
 * Whether `word` may become the secret word, and if not, a sentence saying why. `context` holds
 * what an attacker would try first (the login, the server's name): a word built from it is weak.
 */
export async function checkSecretWord(word: string, context: string[] = []): Promise<SecretWordVerdict> {
  // Counted as the key derivation sees it, in characters rather than bytes or UTF-16 units.
  const length = Array.from(normaliseSecretWord(word)).length;
  if (length < SECRET_WORD_MIN_LENGTH) {
    return { ok: false, reason: `the secret word is too short (${length} character${length === 1 ? '' : 's'}): use at least ${SECRET_WORD_MIN_LENGTH}, for example three or four unrelated words` };
  }
  const result = (await loadEstimator()).check(word, ['keeper', ...context]);
  if (result.score >= SECRET_WORD_MIN_SCORE) return { ok: true };
  const sentence = (text: string) => text.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase());
  const warning = result.feedback.warning ? ` (${sentence(result.feedback.warning)})` : '';
  const advice = result.feedback.suggestions.length > 0 ? result.feedback.suggestions.map(sentence).join('; ') : 'add more words that are less common';
  return { ok: false, reason: `the secret word is too easy to guess${warning}: ${advice}` };
}
