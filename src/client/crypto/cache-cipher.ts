import { createHash, timingSafeEqual } from 'node:crypto';
import { CorruptCache } from './errors.js';
import { associatedData, gcmOpen, gcmSeal, GCM_OVERHEAD } from './internal.js';
import { assertVaultKey, type VaultKey } from './key.js';

/**
 * Whole-file protection of the local cache.
 *
 * Encrypted:   "KPRC" | 0x01 | nonce (12) | ciphertext | tag (16)
 *              AES-256-GCM under the vault key; AAD = header | ["keeper/cache", 1, context].
 * Checksummed: "KPRS" | 0x01 | SHA-256 (32) | data
 *              SHA-256 over header | ["keeper/cache-checksum", 1, context] | data; for when
 *              encryption is off. Detects truncation and corruption, not malice.
 *
 * `context` names whose cache it is (e.g. user id + server address), so a cache of another user or
 * server is refused rather than loaded.
 */

const CACHE_MAGIC = Buffer.from('KPRC', 'latin1');
const CHECKSUM_MAGIC = Buffer.from('KPRS', 'latin1');
export const CACHE_FORMAT_VERSION = 1;
const HEADER_BYTES = 5;
const DIGEST_BYTES = 32;

export type CacheFileKind = 'encrypted' | 'checksummed' | 'unknown';

function header(magic: Buffer): Buffer {
  return Buffer.concat([magic, Buffer.from([CACHE_FORMAT_VERSION])]);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Which wrapper a file uses, by its magic bytes (to migrate when encryption is switched on or off). */
export function cacheFileKind(file: Uint8Array): CacheFileKind {
  if (file.length < 4) return 'unknown';
  const magic = Buffer.from(file.buffer, file.byteOffset, 4);
  if (magic.equals(CACHE_MAGIC)) return 'encrypted';
  if (magic.equals(CHECKSUM_MAGIC)) return 'checksummed';
  return 'unknown';
}

function checkHeader(file: Uint8Array, magic: Buffer, minBytes: number, what: string): Buffer {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < 4 || !bytes.subarray(0, 4).equals(magic)) throw new CorruptCache('not_a_cache', `not ${what}`);
  if (bytes.length < HEADER_BYTES) throw new CorruptCache('truncated', 'the file is truncated');
  const version = bytes[4];
  if (version !== CACHE_FORMAT_VERSION) throw new CorruptCache('unsupported_version', `unsupported format version ${version}`);
  if (bytes.length < minBytes) throw new CorruptCache('truncated', 'the file is truncated');
  return bytes;
}

function cacheAad(context: string): Buffer {
  return Buffer.concat([header(CACHE_MAGIC), associatedData('keeper/cache', CACHE_FORMAT_VERSION, context)]);
}

/** Encrypts a whole cache file (tens of MB are fine: one GCM pass). */
export function encryptCache(key: VaultKey, data: Uint8Array | string, context: string): Buffer {
  assertVaultKey(key);
  return gcmSeal(key, toBytes(data), cacheAad(context), header(CACHE_MAGIC));
}

/**
 * Decrypts a file made by encryptCache. Throws CorruptCache: reason 'not_a_cache',
 * 'unsupported_version', 'truncated' (shorter than any valid file) or 'rejected' (altered,
 * truncated, another key, or another context).
 */
export function decryptCache(key: VaultKey, file: Uint8Array, context: string): Buffer {
  assertVaultKey(key);
  const bytes = checkHeader(file, CACHE_MAGIC, HEADER_BYTES + GCM_OVERHEAD, 'an encrypted Keeper cache');
  const opened = gcmOpen(key, bytes.subarray(HEADER_BYTES), cacheAad(context));
  if (opened === null) {
    throw new CorruptCache('rejected', 'it was altered or truncated, or belongs to another user, server or vault key');
  }
  return opened;
}

function checksum(context: string, data: Uint8Array): Buffer {
  return createHash('sha256')
    .update(header(CHECKSUM_MAGIC))
    .update(associatedData('keeper/cache-checksum', CACHE_FORMAT_VERSION, context))
    .update(data)
    .digest();
}

/** Integrity-only wrapper for when encryption is off. */
export function checksumWrap(data: Uint8Array | string, context: string): Buffer {
  const bytes = toBytes(data);
  return Buffer.concat([header(CHECKSUM_MAGIC), checksum(context, bytes), bytes]);
}

/** Unwraps checksumWrap; throws CorruptCache ('checksum_mismatch' on corruption/truncation/other context). */
export function checksumUnwrap(file: Uint8Array, context: string): Buffer {
  const bytes = checkHeader(file, CHECKSUM_MAGIC, HEADER_BYTES + DIGEST_BYTES, 'a checksummed Keeper cache');
  const stored = bytes.subarray(HEADER_BYTES, HEADER_BYTES + DIGEST_BYTES);
  const data = bytes.subarray(HEADER_BYTES + DIGEST_BYTES);
  if (!timingSafeEqual(stored, checksum(context, data))) {
    throw new CorruptCache('checksum_mismatch', 'the checksum does not match: the file is corrupt, truncated, or for another user or server');
  }
  return Buffer.from(data);
}
