import { randomBytes, scrypt } from 'node:crypto';
import { InvalidSecretWord, UnsafeKdfParams } from './errors.js';
import { decodeBase64Strict, KEK_BYTES, kdfParamsSchema, SALT_BYTES, type KdfOptions, type KdfParams } from '../../domain/vault-key-envelope.js';
import { ownedCopy, type VaultKey } from './key.js';

// The parameters' format (and its bounds) is shared with the server, which checks envelopes too.
export { KEK_BYTES, kdfParamsSchema, SALT_BYTES, SCRYPT_BOUNDS, type KdfOptions, type KdfParams } from '../../domain/vault-key-envelope.js';

/**
 * Secret word -> key-encryption key (KEK), with scrypt from node:crypto.
 *
 * Defaults: N = 2^17, r = 8, p = 1, i.e. 128 * N * r = 128 MiB of memory per derivation. That is
 * stronger than Bitwarden's Argon2id default (64 MiB, 3 iterations) and well above OWASP's scrypt
 * minimum (N = 2^17, r = 8, p = 1 is exactly its first recommendation).
 *
 * The parameters are stored with the user (in the vault key envelope, on the server), so the
 * client validates them on the way in: a hostile or broken server must not be able to make the
 * client derive with weak parameters, nor make it allocate gigabytes.
 */

export type KdfCost = Pick<KdfParams, 'N' | 'r' | 'p'>;

export const SCRYPT_DEFAULTS: Readonly<KdfCost> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** Bytes OpenSSL allocates for scrypt: V (128 * r * (N + 2)) plus B (128 * r * p). */
export function scryptMemoryBytes(cost: KdfCost): number {
  return 128 * cost.r * (cost.N + 2 + cost.p);
}

/** Validates stored parameters; throws UnsafeKdfParams (naming the offending fields, never the salt). */
export function parseKdfParams(input: unknown, options: KdfOptions = {}): KdfParams {
  const result = kdfParamsSchema(options).safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((issue) => `${issue.path.join('.') || 'kdf'}: ${issue.message}`).join('; ');
    throw new UnsafeKdfParams(detail);
  }
  return { ...result.data };
}

/** Fresh parameters with a new random salt; `cost` overrides the defaults (and is validated). */
export function newKdfParams(cost: Partial<KdfCost> = {}, options: KdfOptions = {}): KdfParams {
  return parseKdfParams(
    {
      alg: 'scrypt',
      N: cost.N ?? SCRYPT_DEFAULTS.N,
      r: cost.r ?? SCRYPT_DEFAULTS.r,
      p: cost.p ?? SCRYPT_DEFAULTS.p,
      salt: randomBytes(SALT_BYTES).toString('base64'),
      dkLen: KEK_BYTES,
    },
    options,
  );
}

/**
 * NFKC, so that the same word typed on different keyboards / systems (composed or decomposed
 * accents, full-width letters, ligatures) derives the same key. Nothing else: no trimming or case
 * folding, which would silently weaken the word.
 */
export function normaliseSecretWord(secretWord: string): string {
  return secretWord.normalize('NFKC');
}

/**
 * Derives the 32-byte KEK. Async (scrypt runs on libuv's thread pool). Re-validates the
 * parameters, so it is safe to call with anything read from the server.
 */
export async function deriveKek(secretWord: string, params: KdfParams, options: KdfOptions = {}): Promise<VaultKey> {
  const checked = parseKdfParams(params, options);
  const normalised = normaliseSecretWord(secretWord);
  if (normalised.length === 0) throw new InvalidSecretWord();
  const password = Buffer.from(normalised, 'utf8');
  const salt = decodeBase64Strict(checked.salt);
  if (salt === null) throw new UnsafeKdfParams('salt: not base64'); // unreachable after parsing
  const cost = { N: checked.N, r: checked.r, p: checked.p };
  // Node's default maxmem is 32 MiB; allow exactly what these (bounded) parameters need.
  const maxmem = scryptMemoryBytes(cost) + 1024 * 1024;
  try {
    const derived = await new Promise<Buffer>((resolve, reject) => {
      scrypt(password, salt, checked.dkLen, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
    });
    const kek = ownedCopy(derived);
    derived.fill(0);
    return kek;
  } finally {
    password.fill(0);
  }
}
