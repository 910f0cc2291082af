import { randomBytes } from 'node:crypto';

/** A 256-bit symmetric key (the vault key, or a derived key-encryption key). */
export type VaultKey = Buffer;

export const VAULT_KEY_BYTES = 32;

/** A fresh random vault key, in its own (non-pooled) memory so that `wipe` really clears it. */
export function generateVaultKey(): VaultKey {
  const key = Buffer.alloc(VAULT_KEY_BYTES);
  const random = randomBytes(VAULT_KEY_BYTES);
  random.copy(key);
  random.fill(0);
  return key;
}

/** Copies key material into dedicated memory (never a slice of Node's shared buffer pool). */
export function ownedCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.alloc(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * Overwrites keys (or any sensitive bytes) with zeros, e.g. when the vault locks. Best effort:
 * JavaScript strings and copies made by the runtime cannot be cleared.
 */
export function wipe(...buffers: Array<Uint8Array | null | undefined>): void {
  for (const buffer of buffers) buffer?.fill(0);
}

/**
 * Refuses anything but a 32-byte key, and a wiped (all-zero) key, so that a locked vault can never
 * go on encrypting under the zero key.
 */
export function assertVaultKey(key: unknown, what = 'vault key'): asserts key is VaultKey {
  if (!Buffer.isBuffer(key) || key.length !== VAULT_KEY_BYTES) throw new TypeError(`${what} must be a Buffer of ${VAULT_KEY_BYTES} bytes`);
  let any = 0;
  for (const byte of key) any |= byte;
  if (any === 0) throw new TypeError(`${what} has been wiped (the vault is locked)`);
}
