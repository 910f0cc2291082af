import { associatedData, decodeBase64Strict, gcmOpen, gcmSeal } from './internal.js';
import { createVaultKey, parseEnvelope, unwrapVaultKey, type CreateVaultKeyOptions, type VaultKeyEnvelope } from './envelope.js';
import { WrongSecretWord } from './errors.js';
import { wipe } from './key.js';
import type { KdfOptions } from './kdf.js';

/**
 * A password-protected export, made with the vault's own construction: a random key wrapped in an
 * envelope exactly like the vault key's (scrypt KEK, AES-256-GCM), and the export sealed whole
 * with that key (AES-256-GCM, AAD ["keeper/export", 1]). The envelope's user is a fixed label, so
 * the file opens in any account, with the password alone.
 */
const EXPORT_OWNER = 'keeper-export';
const EXPORT_LABEL = 'keeper/export';
const EXPORT_VERSION = 1;

export interface SealedExport {
  format: 'keeper-encrypted-export';
  v: 1;
  envelope: VaultKeyEnvelope;
  /** base64 of nonce | ciphertext | tag. */
  data: string;
}

export async function sealExport(plaintext: string, password: string, options: CreateVaultKeyOptions = {}): Promise<SealedExport> {
  const { key, envelope } = await createVaultKey(password, EXPORT_OWNER, options);
  try {
    const data = gcmSeal(key, Buffer.from(plaintext, 'utf8'), associatedData(EXPORT_LABEL, EXPORT_VERSION));
    return { format: 'keeper-encrypted-export', v: EXPORT_VERSION, envelope, data: data.toString('base64') };
  } finally {
    wipe(key);
  }
}

/** Opens a sealed export; WrongSecretWord when the password (or the file) does not authenticate. */
export async function openExport(file: { envelope: unknown; data: string }, password: string, options: KdfOptions = {}): Promise<string> {
  const envelope = parseEnvelope(file.envelope, options);
  const key = await unwrapVaultKey(envelope, password, EXPORT_OWNER, options);
  try {
    const data = decodeBase64Strict(file.data);
    const opened = data === null ? null : gcmOpen(key, data, associatedData(EXPORT_LABEL, EXPORT_VERSION));
    if (opened === null) throw new WrongSecretWord();
    return opened.toString('utf8');
  } finally {
    wipe(key);
  }
}
