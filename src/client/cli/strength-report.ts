import type { Field } from '../../domain/record.js';
import { describeStrength, passwordStrengths } from '../core/strength.js';

/** After a save: how strong each password field is, on stderr. Told, never refused; an estimator that fails says nothing. */
export async function reportStrength(warn: (text: string) => void, fields: readonly Field[], context: string[]): Promise<void> {
  try {
    for (const strength of await passwordStrengths(fields, context)) warn(`strength of ${describeStrength(strength)}`);
  } catch {
    // The estimate is advice: its failure must not fail a save that already happened.
  }
}
