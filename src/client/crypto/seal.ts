import { LIMITS, SEALED_PREFIX } from '../../domain/limits.js';
import { MalformedSealedValue, PlaintextTooLarge, SealedValueRejected } from './errors.js';
import { associatedData, base64UrlLength, canonicalId, decodeBase64UrlStrict, gcmOpen, gcmSeal, GCM_OVERHEAD } from './internal.js';
import { assertVaultKey, type VaultKey } from './key.js';

/**
 * Sealed values: `kpr1.<base64url(nonce | ciphertext | tag)>`, AES-256-GCM under the vault key.
 *
 * The associated data binds the ciphertext to its record, its field and its purpose, so a value
 * copied to another record or field (or a field value passed off as a record name) does not open.
 * The prefix lets anyone (server, audit tool, UI) recognise a sealed value without a key.
 */

export { SEALED_PREFIX };
const SEAL_LABEL = 'keeper/sealed-value';
const SEAL_VERSION = 1;

export type SealPurpose = 'field' | 'name' | 'image' | 'tag';
const PURPOSES: readonly SealPurpose[] = ['field', 'name', 'image', 'tag'];

export interface SealContext {
  /** The record id (a UUID; compared in lower case like the domain does). */
  recordId: string;
  /** The field name (trimmed like the domain does). Required for purpose 'field'; for 'image', e.g. the image id. */
  field?: string;
  /** Defaults to 'field'. */
  purpose?: SealPurpose;
}

/** The longest sealed value a field can hold (the domain's field value limit, in characters). */
export const MAX_SEALED_LENGTH: number = LIMITS.fieldValueMax;

/** Largest plaintext (UTF-8 bytes) whose sealed form fits MAX_SEALED_LENGTH: 49,120 = 48 KiB - 32 B. */
export const MAX_SEALED_PLAINTEXT_BYTES: number = Math.floor(((MAX_SEALED_LENGTH - SEALED_PREFIX.length) * 3) / 4) - GCM_OVERHEAD;

/** Characters of the sealed form of a plaintext of `plaintextBytes` bytes. */
export function sealedLength(plaintextBytes: number): number {
  return SEALED_PREFIX.length + base64UrlLength(plaintextBytes + GCM_OVERHEAD);
}

const SEALED_SHAPE = /^kpr1\.[A-Za-z0-9_-]+$/;

/** True when `value` looks like a sealed value (no key needed, nothing decrypted). */
export function isSealed(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= sealedLength(0) &&
    value.length <= MAX_SEALED_LENGTH &&
    SEALED_SHAPE.test(value) &&
    (value.length - SEALED_PREFIX.length) % 4 !== 1
  );
}

function sealAad(context: SealContext): Buffer {
  const purpose = context.purpose ?? 'field';
  if (!PURPOSES.includes(purpose)) throw new TypeError(`unknown seal purpose "${String(purpose)}"`);
  if (typeof context.recordId !== 'string' || context.recordId.length === 0) throw new TypeError('recordId must be a non-empty string');
  const field = (context.field ?? '').trim();
  if (purpose === 'field' && field.length === 0) throw new TypeError('a field name is needed to seal a field value');
  return associatedData(SEAL_LABEL, SEAL_VERSION, purpose, canonicalId(context.recordId), field);
}

/** Seals a value. Throws PlaintextTooLarge above MAX_SEALED_PLAINTEXT_BYTES. */
export function sealValue(key: VaultKey, plaintext: string | Uint8Array, context: SealContext): string {
  assertVaultKey(key);
  const aad = sealAad(context);
  const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  try {
    if (bytes.length > MAX_SEALED_PLAINTEXT_BYTES) throw new PlaintextTooLarge(bytes.length, MAX_SEALED_PLAINTEXT_BYTES);
    return SEALED_PREFIX + gcmSeal(key, bytes, aad).toString('base64url');
  } finally {
    if (typeof plaintext === 'string') bytes.fill(0); // our copy only; the caller's bytes are theirs
  }
}

/** Opens a sealed value to bytes (e.g. an image). */
export function openValueBytes(key: VaultKey, sealed: string, context: SealContext): Buffer {
  assertVaultKey(key);
  const aad = sealAad(context);
  if (!isSealed(sealed)) throw new MalformedSealedValue();
  const blob = decodeBase64UrlStrict(sealed.slice(SEALED_PREFIX.length));
  if (blob === null || blob.length < GCM_OVERHEAD) throw new MalformedSealedValue();
  const opened = gcmOpen(key, blob, aad);
  if (opened === null) throw new SealedValueRejected();
  return opened;
}

/**
 * Opens a sealed value to text. Throws MalformedSealedValue when `sealed` is not a sealed value,
 * SealedValueRejected when it was altered, moved to another record/field/purpose, or sealed with
 * another key.
 */
export function openValue(key: VaultKey, sealed: string, context: SealContext): string {
  const bytes = openValueBytes(key, sealed, context);
  try {
    return bytes.toString('utf8');
  } finally {
    bytes.fill(0);
  }
}

/**
 * Seals bytes of any size (an image) to raw `nonce | ciphertext | tag`, bound like a value to its
 * record and purpose; stored as a blob, so no text form is needed.
 */
export function sealBytes(key: VaultKey, plaintext: Uint8Array, context: SealContext): Buffer {
  assertVaultKey(key);
  return gcmSeal(key, plaintext, sealAad(context));
}

/** Opens what sealBytes made; throws SealedValueRejected when it was altered, moved or sealed with another key. */
export function openBytes(key: VaultKey, sealed: Uint8Array, context: SealContext): Buffer {
  assertVaultKey(key);
  if (sealed.length < GCM_OVERHEAD) throw new MalformedSealedValue();
  const opened = gcmOpen(key, Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength), sealAad(context));
  if (opened === null) throw new SealedValueRejected();
  return opened;
}
