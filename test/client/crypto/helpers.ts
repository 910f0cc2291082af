import type { CreateVaultKeyOptions } from '../../../src/client/crypto/index.js';

/** Fast, weak scrypt for unit tests only (1 MiB, a few ms). Only the defaults test uses real cost. */
export const WEAK: CreateVaultKeyOptions = Object.freeze({ allowWeakForTests: true, kdf: { N: 2 ** 10 } });

export const USER = '5b0f3a52-6a55-4f0e-9c3e-2d1b8f0a7c11';
export const OTHER_USER = 'a3e1c0de-1111-4222-8333-944455556666';

/** Flips one bit of a base64 / base64url text at character `index` (keeping it valid). */
export function flipChar(text: string, index: number): string {
  const c = text[index];
  if (c === undefined) throw new Error('index out of range');
  const replacement = c === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}
