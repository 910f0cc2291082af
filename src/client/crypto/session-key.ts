import { randomBytes } from 'node:crypto';
import { SessionKeyMismatch } from './errors.js';
import { associatedData, decodeBase64UrlStrict, gcmOpen, gcmSeal, GCM_OVERHEAD } from './internal.js';
import { assertVaultKey, ownedCopy, VAULT_KEY_BYTES, wipe, type VaultKey } from './key.js';

/**
 * `keeper unlock` convenience (like `bw unlock` / BW_SESSION): the vault key is stored in a 0600
 * file encrypted under a random session secret that is printed once for an environment variable.
 * Neither half alone yields the vault key; `keeper lock` deletes the file.
 *
 *   sessionSecret: base64url of 32 random bytes (43 characters)
 *   protectedKey:  `kps1.<base64url(nonce | wrapped key | tag)>`, AAD ["keeper/session-key", 1]
 */

export const PROTECTED_KEY_PREFIX = 'kps1.';
const SESSION_LABEL = 'keeper/session-key';
const SESSION_VERSION = 1;
const SESSION_SECRET_BYTES = 32;

export interface SessionProtection {
  /** Print for the user to export (e.g. KEEPER_SESSION=...). */
  sessionSecret: string;
  /** Store in a 0600 file. */
  protectedKey: string;
}

const aad = () => associatedData(SESSION_LABEL, SESSION_VERSION);

export function protectKeyForSession(vaultKey: VaultKey): SessionProtection {
  assertVaultKey(vaultKey);
  const secret = randomBytes(SESSION_SECRET_BYTES);
  try {
    return {
      sessionSecret: secret.toString('base64url'),
      protectedKey: PROTECTED_KEY_PREFIX + gcmSeal(secret, vaultKey, aad()).toString('base64url'),
    };
  } finally {
    wipe(secret);
  }
}

/** Throws SessionKeyMismatch (reason 'malformed_secret', 'malformed_key' or 'mismatch'). */
export function recoverKeyFromSession(protectedKey: string, sessionSecret: string): VaultKey {
  const secret = typeof sessionSecret === 'string' ? decodeBase64UrlStrict(sessionSecret.trim()) : null;
  if (secret === null || secret.length !== SESSION_SECRET_BYTES) {
    throw new SessionKeyMismatch('malformed_secret', 'the session secret is malformed: unlock again');
  }
  const text = typeof protectedKey === 'string' ? protectedKey.trim() : '';
  const blob = text.startsWith(PROTECTED_KEY_PREFIX) ? decodeBase64UrlStrict(text.slice(PROTECTED_KEY_PREFIX.length)) : null;
  if (blob === null || blob.length !== GCM_OVERHEAD + VAULT_KEY_BYTES) {
    wipe(secret);
    throw new SessionKeyMismatch('malformed_key', 'the stored session key is malformed: unlock again');
  }
  const opened = gcmOpen(secret, blob, aad());
  wipe(secret);
  if (opened === null) throw new SessionKeyMismatch('mismatch');
  const key = ownedCopy(opened);
  wipe(opened);
  assertVaultKey(key);
  return key;
}
