import { SEALED_PREFIX } from '../domain/limits.js';
import type { Field } from '../domain/record.js';

/**
 * What the audit tool may print of a value. It never needs (or has) a user's secret word, and it
 * never prints the value of a sensitive field: only its name and a marker. A value sealed on the
 * client (it starts with the domain's SEALED_PREFIX) is shown as "sealed" wherever it sits, also
 * in a field not marked sensitive or as a record name (whole-record encryption): its bytes mean
 * nothing without the key and only clutter the output.
 */
export type Masked = 'sensitive' | 'sealed';

export interface ShownValue {
  /** Present only when the value may be printed. */
  value?: string;
  masked?: Masked;
}

export function looksSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** The printable form of one field value; `sensitive` is the flag of every version involved. */
export function shownValue(value: string, sensitive: boolean): ShownValue {
  if (sensitive) return { masked: looksSealed(value) ? 'sealed' : 'sensitive' };
  if (looksSealed(value)) return { masked: 'sealed' };
  return { value };
}

/** `value`, or "(sensitive)" / "(sealed)" in its place. */
export function displayValue(shown: ShownValue): string {
  return shown.masked ? `(${shown.masked})` : JSON.stringify(shown.value);
}

export function shownField(field: Field): { name: string; sensitive: boolean } & ShownValue {
  return { name: field.name, sensitive: field.sensitive, ...shownValue(field.value, field.sensitive) };
}

/** A record name as printed: itself, or "(sealed)" for a name sealed on the client. */
export function shownName(name: string): string {
  return looksSealed(name) ? '(sealed)' : name;
}
