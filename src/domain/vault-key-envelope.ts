import { z } from 'zod';

/**
 * The vault key envelope's format: what a client stores on the server (as JSON, in SetVaultKey)
 * and every client of the user reads back. The client checks it before unwrapping and the server
 * before accepting it, with these same schemas, so a broken or hostile client cannot hand its
 * other devices something they choke on. The cryptography itself stays in src/client/crypto.
 */

export const ENVELOPE_VERSION = 1;
/** AES-256-GCM: 12-byte nonce | 32-byte wrapped key | 16-byte tag. */
export const WRAPPED_KEY_BYTES = 12 + 32 + 16;

export interface KdfParams {
  alg: 'scrypt';
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
  /** Canonical base64 of 16 to 64 random bytes. */
  salt: string;
  dkLen: 32;
}

export interface KdfOptions {
  /**
   * Accepts N down to 2^10 so unit tests stay fast. Never set it in a client outside tests:
   * without it the floor is N = 2^15. The server accepts the lower floor (it cannot tell a test
   * client), and each client still applies its own.
   */
  allowWeakForTests?: boolean;
}

export const SCRYPT_BOUNDS = Object.freeze({
  minN: 2 ** 15,
  /** Only with `allowWeakForTests`. */
  minNForTests: 2 ** 10,
  maxN: 2 ** 20,
  minR: 8,
  maxR: 16,
  minP: 1,
  maxP: 4,
  /** 128 * N * r; 1 GiB (e.g. N = 2^20 with r = 8, or N = 2^19 with r = 16). */
  maxMemoryBytes: 2 ** 30,
});

export const SALT_BYTES = 16;
export const SALT_MAX_BYTES = 64;
export const KEK_BYTES = 32;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Canonical padded base64 only (Node's decoder silently skips junk); null otherwise. */
export function decodeBase64Strict(text: string): Buffer | null {
  if (!BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/** The zod schema for stored parameters, with the floor depending on `allowWeakForTests`. */
export function kdfParamsSchema(options: KdfOptions = {}) {
  const minN = options.allowWeakForTests ? SCRYPT_BOUNDS.minNForTests : SCRYPT_BOUNDS.minN;
  return z
    .strictObject({
      alg: z.literal('scrypt'),
      N: z
        .int()
        .min(minN, `N must be at least 2^${Math.log2(minN)}`)
        .max(SCRYPT_BOUNDS.maxN, `N must be at most 2^${Math.log2(SCRYPT_BOUNDS.maxN)}`)
        .refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
      r: z.int().min(SCRYPT_BOUNDS.minR).max(SCRYPT_BOUNDS.maxR),
      p: z.int().min(SCRYPT_BOUNDS.minP).max(SCRYPT_BOUNDS.maxP),
      salt: z.string().refine((salt) => {
        const bytes = decodeBase64Strict(salt);
        return bytes !== null && bytes.length >= SALT_BYTES && bytes.length <= SALT_MAX_BYTES;
      }, `salt must be canonical base64 of ${SALT_BYTES} to ${SALT_MAX_BYTES} bytes`),
      dkLen: z.literal(KEK_BYTES),
    })
    .refine((params) => 128 * params.N * params.r <= SCRYPT_BOUNDS.maxMemoryBytes, {
      message: `N and r need more than ${SCRYPT_BOUNDS.maxMemoryBytes / 2 ** 20} MiB of memory`,
      path: ['N'],
    });
}

/** The envelope's outline; `kdf` is checked on its own (kdfParamsSchema) so its problems say so. */
export const envelopeShapeSchema = z.strictObject({
  v: z.int(),
  kdf: z.unknown(),
  wrapped: z.string(),
  userId: z.string().min(1).max(200),
});

export const envelopeVersionSchema = z.literal(ENVELOPE_VERSION, { message: `unsupported version (this one is ${ENVELOPE_VERSION})` });

export const wrappedKeySchema = z.string().refine((wrapped) => decodeBase64Strict(wrapped)?.length === WRAPPED_KEY_BYTES, {
  message: `must be canonical base64 of ${WRAPPED_KEY_BYTES} bytes`,
});

/**
 * An envelope as the server receives it, JSON text, checked whole: outline, version, wrapped key,
 * KDF parameters (at the test floor, see KdfOptions).
 */
export const envelopeJsonSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a vault key envelope (JSON)' });
      return z.NEVER;
    }
  })
  .pipe(
    envelopeShapeSchema.extend({
      v: envelopeVersionSchema,
      kdf: kdfParamsSchema({ allowWeakForTests: true }),
      wrapped: wrappedKeySchema,
    }),
  );
