import { fieldKindOf, type Field } from '../../domain/record.js';
import { loadEstimator } from '../secret-word-policy.js';

/** How hard a password is to guess, by zxcvbn's estimate: told on save, never a reason to refuse it. */
export interface Strength {
  field: string;
  /** zxcvbn's score: 0 (guessed at once) to 4 (very hard). */
  score: 0 | 1 | 2 | 3 | 4;
  label: 'very weak' | 'weak' | 'fair' | 'strong' | 'very strong';
  /** How long an offline attacker with a slow hash (10^4 guesses a second) would take, in words. */
  crackTime: string;
  /** zxcvbn's warning and advice, when it has any. */
  advice: string | null;
}

const LABELS = ['very weak', 'weak', 'fair', 'strong', 'very strong'] as const;

/** A field worth estimating: a sensitive text field named like a password (not a card number or a PIN). */
export function isPasswordField(field: Field): boolean {
  return field.sensitive && fieldKindOf(field) === 'text' && /pass|pwd|kennwort|mot de passe/i.test(field.name) && field.value !== '';
}

/** The strength of every password field among `fields` (the record's name and other values count as guessable context). */
export async function passwordStrengths(fields: readonly Field[], context: readonly string[] = []): Promise<Strength[]> {
  const candidates = fields.filter(isPasswordField);
  if (candidates.length === 0) return [];
  const estimator = await loadEstimator();
  const others = fields.filter((f) => !f.sensitive).map((f) => f.value);
  return candidates.map((field) => {
    // zxcvbn's cost grows with the length; past 100 characters nothing is guessable anyway.
    const result = estimator.check(field.value.slice(0, 100), [...context, ...others].filter((text) => text.length > 0).slice(0, 50));
    const score = Math.max(0, Math.min(4, result.score)) as Strength['score'];
    const advice = [result.feedback.warning, ...result.feedback.suggestions].filter((text): text is string => Boolean(text)).join(' ');
    return { field: field.name, score, label: LABELS[score], crackTime: result.crackTimes.offlineSlowHashingXPerSecond.display, advice: advice || null };
  });
}

/** One line per field for a face to print: 'password: weak (1/4), guessed in 3 hours. Add another word or two.' */
export function describeStrength(strength: Strength): string {
  const base = `${strength.field}: ${strength.label} (${strength.score}/4), guessed in ${strength.crackTime} by an offline attacker`;
  return strength.advice && strength.score < 3 ? `${base}. ${strength.advice}` : base;
}
