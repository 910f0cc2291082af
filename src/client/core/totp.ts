import { createRequire } from 'node:module';
import type { TOTP } from 'otpauth';
import { fieldKindOf, type Field } from '../../domain/record.js';
import { KeeperFailure } from './failures.js';

let loaded: typeof import('otpauth') | undefined;

/**
 * otpauth (and the hashing library it brings) at first use, not at start: loading it costs every
 * command that reaches this file (`keeper ls` among them) ~10 ms, and only one-time codes need it.
 */
function otpauth(): typeof import('otpauth') {
  loaded ??= createRequire(import.meta.url)('otpauth') as typeof import('otpauth');
  return loaded;
}

/** What an authenticator app shows for a one-time-code field at one moment. */
export interface OneTimeCode {
  code: string;
  /** Whole seconds until the code changes (1 to period). */
  secondsLeft: number;
  period: number;
  digits: number;
  algorithm: string;
  /** From an otpauth:// URI, when it names them. */
  issuer?: string | undefined;
  label?: string | undefined;
}

/**
 * The generator a one-time-code field holds (RFC 6238): an otpauth://totp/ URI with its own
 * digits, period and algorithm, or a bare base32 secret with the defaults every service uses
 * (6 digits, 30 seconds, SHA-1). Throws KeeperFailure('invalid') with a sentence otherwise; the
 * value itself is never put in the sentence.
 */
export function totpOf(value: string): TOTP {
  const { Secret, TOTP, URI } = otpauth();
  const text = value.trim();
  try {
    if (/^otpauth:/i.test(text)) {
      const parsed = URI.parse(text);
      if (!(parsed instanceof TOTP)) throw new Error('not a time-based (totp) URI');
      return parsed;
    }
    const secret = Secret.fromBase32(text.replace(/[\s-]/g, '').toUpperCase());
    if (secret.bytes.length < 10) throw new Error('the secret is shorter than 80 bits');
    return new TOTP({ secret });
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/[.]$/, '') : 'unreadable';
    throw new KeeperFailure('invalid', `not a one-time-code secret (an otpauth://totp/ URI or a base32 secret): ${why}`);
  }
}

/** Throws KeeperFailure('invalid') unless `value` is a usable one-time-code secret. */
export function checkTotpValue(value: string): void {
  totpOf(value);
}

/** The code at `now` (Unix ms) and how long it lasts. */
export function oneTimeCode(value: string, now: number = Date.now()): OneTimeCode {
  const totp = totpOf(value);
  return {
    code: totp.generate({ timestamp: now }),
    secondsLeft: Math.ceil(totp.remaining({ timestamp: now }) / 1000),
    period: totp.period,
    digits: totp.digits,
    algorithm: totp.algorithm,
    issuer: totp.issuer || undefined,
    label: totp.label && totp.label !== 'OTPAuth' ? totp.label : undefined,
  };
}

/** The record's one-time-code fields (readable ones: a field still sealed has no code to show). */
export function totpFields(record: { fields: readonly Field[]; unreadable?: readonly string[] }): Field[] {
  return record.fields.filter((field) => fieldKindOf(field) === 'totp' && !(record.unreadable ?? []).includes(field.name));
}
