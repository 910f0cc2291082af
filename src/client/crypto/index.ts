// Client-side crypto: the server never sees the secret word, the vault key or a sensitive plaintext.
export * from './errors.js';
export { assertVaultKey, generateVaultKey, wipe, VAULT_KEY_BYTES, type VaultKey } from './key.js';
export * from './kdf.js';
export * from './envelope.js';
export * from './seal.js';
export * from './cache-cipher.js';
export * from './session-key.js';
export * from './export-cipher.js';
