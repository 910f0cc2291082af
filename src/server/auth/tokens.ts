import { PublicProtocol } from 'paseto';
import {
  ExportSecretKeyFactory,
  GenerateKeyPairFactory,
  GetPublicKeyFactory,
  ImportSecretKeyFactory,
  SignFactory,
  VerifyFactory,
  type PublicKey,
  type SecretKey,
} from 'paseto/v4/public';
import { DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, VerifiedTokenCache } from './verified-token-cache.js';

const v4 = new PublicProtocol(
  GenerateKeyPairFactory,
  SignFactory,
  VerifyFactory,
  ImportSecretKeyFactory,
  ExportSecretKeyFactory,
  GetPublicKeyFactory,
);

/** Audience and issuer of every access token. */
export const TOKEN_AUDIENCE = 'keeper';
export const TOKEN_ISSUER = 'keeper';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 900;

export interface AccessTokenSubject {
  userId: string;
  login: string;
  /** The session (refresh-token family) the token was issued in; checked against ended sessions. */
  sessionId: string;
}

export interface IssuedAccessToken {
  token: string;
  /** Unix time in milliseconds (a whole second: PASETO dates have second precision). */
  expiresAt: number;
}

/** A token that did not verify. `reason` tells an expired token from a malformed or forged one. */
export class AccessTokenError extends Error {
  constructor(
    readonly reason: 'expired' | 'invalid',
    options?: ErrorOptions,
  ) {
    super(reason === 'expired' ? 'access token has expired' : 'access token is invalid', options);
    this.name = 'AccessTokenError';
  }
}

export interface TokenIssuerOptions {
  /** Lifetime of an access token in seconds; default 900. */
  ttlSeconds?: number;
  /** Skew allowed when checking exp/iat, in seconds; default 0. */
  clockToleranceSeconds?: number;
  /** Current time in ms; default Date.now. */
  now?: () => number;
  /**
   * How many verified tokens to remember (until they expire), so that repeated calls with one
   * token skip the signature check; default 10,000, 0 turns it off.
   */
  verifiedCacheSize?: number;
}

/**
 * Signs and verifies v4.public access tokens (Ed25519). The secret key is a PASERK `k4.secret.…`
 * string; every replica that verifies tokens needs the same one (or its public key).
 */
export class TokenIssuer {
  private readonly ttlSeconds: number;
  private readonly clockToleranceSeconds: number;
  private readonly now: () => number;
  private readonly verified: VerifiedTokenCache<AccessTokenSubject>;

  private constructor(
    private readonly secretKey: SecretKey,
    private readonly publicKey: PublicKey,
    options: TokenIssuerOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new RangeError(`access token TTL must be a positive whole number of seconds, got ${this.ttlSeconds}`);
    }
    this.clockToleranceSeconds = options.clockToleranceSeconds ?? 0;
    this.now = options.now ?? Date.now;
    this.verified = new VerifiedTokenCache(options.verifiedCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, this.clockToleranceSeconds * 1000);
  }

  /** Creates an issuer from a PASERK `k4.secret` string. Rejects (without echoing it) a bad key. */
  static async fromSecretKey(paserk: string, options: TokenIssuerOptions = {}): Promise<TokenIssuer> {
    let secretKey: SecretKey;
    try {
      secretKey = await v4.ImportSecretKey(paserk as `k4.secret.${string}`);
    } catch (error) {
      throw new Error('access token key is not a valid PASERK k4.secret key', { cause: error });
    }
    return new TokenIssuer(secretKey, await v4.GetPublicKey(secretKey), options);
  }

  /** A new random PASERK `k4.secret` string, to put in the configuration. */
  static async generateSecretKey(): Promise<string> {
    const { secretKey } = await v4.GenerateKeyPair({ extractable: true });
    return v4.ExportSecretKey(secretKey);
  }

  get accessTokenTtlSeconds(): number {
    return this.ttlSeconds;
  }

  /** How many verified tokens are remembered now (for tests and metrics). */
  get cachedVerifications(): number {
    return this.verified.size;
  }

  async issue(user: AccessTokenSubject): Promise<IssuedAccessToken> {
    // PASETO writes dates to the second; start from a whole second so expiresAt matches `exp`.
    const issuedAt = Math.floor(this.now() / 1000) * 1000;
    const token = await v4.Sign(
      this.secretKey,
      { sub: user.userId, login: user.login, sid: user.sessionId, aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER },
      { now: new Date(issuedAt), expiresIn: this.ttlSeconds },
    );
    return { token, expiresAt: issuedAt + this.ttlSeconds * 1000 };
  }

  /** The user a token was issued to; throws AccessTokenError when it is expired, malformed or forged. */
  async verify(token: string): Promise<AccessTokenSubject> {
    const now = this.now();
    const cached = this.verified.get(token, now);
    if (cached.kind === 'valid') return { ...cached.subject };
    if (cached.kind === 'expired') throw new AccessTokenError('expired');
    let claims: Record<string, unknown>;
    try {
      ({ claims } = await v4.Verify(this.publicKey, token, {
        now: new Date(now),
        audience: TOKEN_AUDIENCE,
        issuer: TOKEN_ISSUER,
        clockTolerance: this.clockToleranceSeconds,
        // A missing exp is checked below, so that an "exp" claim error can only mean expired.
        allowNonExpiring: true,
      }));
    } catch (error) {
      // The signature is checked before the claims, so "expired" is only said of a genuine token.
      const expired = isClaimError(error, 'exp');
      throw new AccessTokenError(expired ? 'expired' : 'invalid', { cause: error });
    }
    const { sub, login, sid, exp, iat, nbf } = claims;
    // A token without a session (issued before sessions could end) cannot be revoked: the client
    // refreshes it.
    if (typeof exp !== 'string' || typeof sub !== 'string' || sub === '' || typeof login !== 'string' || login === '' || typeof sid !== 'string' || sid === '') {
      throw new AccessTokenError('invalid');
    }
    // Only a token that passed every check above is remembered, with the dates the check used.
    const expiresAt = dateClaim(exp);
    const validFrom = Math.max(dateClaim(iat), dateClaim(nbf));
    if (Number.isFinite(expiresAt) && !Number.isNaN(validFrom)) {
      this.verified.set(token, { subject: { userId: sub, login, sessionId: sid }, expiresAt, validFrom });
    }
    return { userId: sub, login, sessionId: sid };
  }
}

/** The form TokenIssuer writes dates in; a token with another form is not cached (it still verifies). */
const ISSUED_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A verified date claim in Unix ms; -Infinity when absent, NaN when not in the issued form. */
function dateClaim(value: unknown): number {
  if (value === undefined) return Number.NEGATIVE_INFINITY;
  return typeof value === 'string' && ISSUED_DATE.test(value) ? Date.parse(value) : Number.NaN;
}

function isClaimError(error: unknown, claim: string): boolean {
  const e = error as { code?: unknown; claim?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === 'ERR_PASETO_CLAIM_VALIDATION' && e.claim === claim;
}
