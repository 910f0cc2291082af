import { ENVELOPE_VERSION, envelopeShapeSchema, envelopeVersionSchema, WRAPPED_KEY_BYTES, wrappedKeySchema } from '../../domain/vault-key-envelope.js';
import { InvalidSecretWord, MalformedEnvelope, WrongSecretWord } from './errors.js';
import { associatedData, canonicalId, decodeBase64Strict, gcmOpen, gcmSeal } from './internal.js';
import { deriveKek, newKdfParams, normaliseSecretWord, parseKdfParams, type KdfCost, type KdfOptions, type KdfParams } from './kdf.js';
import { assertVaultKey, generateVaultKey, ownedCopy, VAULT_KEY_BYTES, wipe, type VaultKey } from './key.js';

/**
 * The vault key envelope: a random 256-bit vault key wrapped (AES-256-GCM) with the KEK derived
 * from the secret word. Stored on the server so every client of the user can unlock; the server
 * learns nothing from it but the KDF parameters.
 *
 * AAD = ["keeper/vault-key-envelope", v, userId], so an envelope copied to another user's account
 * does not open there even with the right word.
 */

export { ENVELOPE_VERSION } from '../../domain/vault-key-envelope.js';
const ENVELOPE_LABEL = 'keeper/vault-key-envelope';

export interface VaultKeyEnvelope {
  v: 1;
  kdf: KdfParams;
  /** Canonical base64 of nonce (12) | wrapped key (32) | tag (16). */
  wrapped: string;
  userId: string;
}

export interface CreateVaultKeyOptions extends KdfOptions {
  /** Overrides the default scrypt cost (validated against the same bounds). */
  kdf?: Partial<KdfCost>;
}

/**
 * Validates an envelope read from storage. Throws MalformedEnvelope for a wrong shape, version or
 * encoding, and its subclass UnsafeKdfParams for parameters out of bounds. The server checks the
 * same format (src/domain/vault-key-envelope.ts) before it accepts an envelope.
 */
export function parseEnvelope(input: unknown, options: KdfOptions = {}): VaultKeyEnvelope {
  const shape = envelopeShapeSchema.safeParse(input);
  if (!shape.success) {
    throw new MalformedEnvelope(shape.error.issues.map((issue) => `${issue.path.join('.') || 'envelope'}: ${issue.message}`).join('; '));
  }
  if (!envelopeVersionSchema.safeParse(shape.data.v).success) throw new MalformedEnvelope(`unsupported version ${shape.data.v}`);
  if (!wrappedKeySchema.safeParse(shape.data.wrapped).success) {
    throw new MalformedEnvelope(`wrapped: must be canonical base64 of ${WRAPPED_KEY_BYTES} bytes`);
  }
  const kdf = parseKdfParams(shape.data.kdf, options);
  return { v: ENVELOPE_VERSION, kdf, wrapped: shape.data.wrapped, userId: shape.data.userId };
}

function envelopeAad(userId: string): Buffer {
  return associatedData(ENVELOPE_LABEL, ENVELOPE_VERSION, canonicalId(userId));
}

function requireUsableWord(secretWord: string): void {
  if (normaliseSecretWord(secretWord).length === 0) throw new InvalidSecretWord();
}

function requireUserId(userId: string): void {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 200) throw new TypeError('userId must be a non-empty string');
}

async function wrap(vaultKey: VaultKey, secretWord: string, userId: string, options: CreateVaultKeyOptions): Promise<VaultKeyEnvelope> {
  const kdf = newKdfParams(options.kdf, options);
  const kek = await deriveKek(secretWord, kdf, options);
  try {
    const wrapped = gcmSeal(kek, vaultKey, envelopeAad(userId));
    return { v: ENVELOPE_VERSION, kdf, wrapped: wrapped.toString('base64'), userId: canonicalId(userId) };
  } finally {
    wipe(kek);
  }
}

/** A new random vault key and its envelope (new salt). Throws InvalidSecretWord for an empty word. */
export async function createVaultKey(
  secretWord: string,
  userId: string,
  options: CreateVaultKeyOptions = {},
): Promise<{ key: VaultKey; envelope: VaultKeyEnvelope }> {
  requireUsableWord(secretWord);
  requireUserId(userId);
  const key = generateVaultKey();
  try {
    return { key, envelope: await wrap(key, secretWord, userId, options) };
  } catch (error) {
    wipe(key);
    throw error;
  }
}

/**
 * Opens the envelope. Throws MalformedEnvelope (or UnsafeKdfParams) before doing any work when the
 * envelope is unusable or belongs to another user, and WrongSecretWord when the word does not
 * authenticate (see WrongSecretWord for what that covers).
 */
export async function unwrapVaultKey(envelope: unknown, secretWord: string, userId: string, options: KdfOptions = {}): Promise<VaultKey> {
  requireUserId(userId);
  const parsed = parseEnvelope(envelope, options);
  if (canonicalId(parsed.userId) !== canonicalId(userId)) throw new MalformedEnvelope('it belongs to another user');
  if (normaliseSecretWord(secretWord).length === 0) throw new WrongSecretWord();
  const kek = await deriveKek(secretWord, parsed.kdf, options);
  const wrapped = decodeBase64Strict(parsed.wrapped);
  if (wrapped === null) throw new MalformedEnvelope('wrapped: not base64'); // unreachable after parsing
  let opened: Buffer | null = null;
  try {
    opened = gcmOpen(kek, wrapped, envelopeAad(userId));
    if (opened === null || opened.length !== VAULT_KEY_BYTES) throw new WrongSecretWord();
    const key = ownedCopy(opened);
    assertVaultKey(key);
    return key;
  } finally {
    wipe(kek, opened);
  }
}

/**
 * Changing the secret word: opens the envelope with the old word and wraps the same vault key with
 * the new one, under a new salt (and the current default cost unless `options.kdf` says otherwise).
 * No data is re-encrypted. The old envelope is left untouched; replace it on the server.
 */
export async function rewrapVaultKey(
  envelope: unknown,
  oldWord: string,
  newWord: string,
  userId: string,
  options: CreateVaultKeyOptions = {},
): Promise<VaultKeyEnvelope> {
  requireUsableWord(newWord);
  const key = await unwrapVaultKey(envelope, oldWord, userId, options);
  try {
    return await wrap(key, newWord, userId, options);
  } finally {
    wipe(key);
  }
}
