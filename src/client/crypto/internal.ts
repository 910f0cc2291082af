import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { VaultKey } from './key.js';

// Shared AES-256-GCM plumbing. Not exported from index.ts.

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** nonce | ciphertext | tag */
export const GCM_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/**
 * Associated data as a JSON array: unambiguous (no concatenation of `a|b` with `ab|`), and every
 * part is a label, a version or an id, never a secret.
 */
export function associatedData(...parts: Array<string | number>): Buffer {
  return Buffer.from(JSON.stringify(parts), 'utf8');
}

/**
 * Encrypts with a fresh random 96-bit nonce. Random nonces are safe for far more messages than a
 * personal vault ever seals under one key (NIST's bound is 2^32 per key).
 */
export function gcmSeal(key: VaultKey, plaintext: Uint8Array, aad: Uint8Array, prefix?: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const parts: Buffer[] = [];
  if (prefix) parts.push(Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength));
  parts.push(nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
  return Buffer.concat(parts);
}

/** Returns the plaintext, or null when authentication fails (wrong key, altered data or AAD). */
export function gcmOpen(key: VaultKey, blob: Uint8Array, aad: Uint8Array): Buffer | null {
  if (blob.length < GCM_OVERHEAD) return null;
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const ciphertext = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const head = decipher.update(ciphertext);
  try {
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    head.fill(0); // unauthenticated plaintext is never returned
    return null;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export { decodeBase64Strict } from '../../domain/vault-key-envelope.js';

/** Canonical unpadded base64url only; null otherwise. */
export function decodeBase64UrlStrict(text: string): Buffer | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** Length of unpadded base64url for `bytes` bytes. */
export function base64UrlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids as the domain stores them: UUIDs in lower case (see recordIdSchema), anything else as is. */
export function canonicalId(id: string): string {
  return UUID.test(id) ? id.toLowerCase() : id;
}
