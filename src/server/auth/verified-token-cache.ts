/**
 * Access tokens that already verified, so that a client's repeated calls with the same token do
 * not check its Ed25519 signature again. Keyed by the exact token string: a token that differs in
 * any character is a different key and gets verified in full. Only the verifier puts entries here,
 * after a successful verification, so a forged or malformed token never enters.
 *
 * An entry answers only while its token is still valid by the clock the verifier uses: from the
 * moment the full check would call the token expired, the cache says "expired" too (and drops
 * it). Bounded: the least recently used entry goes first when it is full.
 */
export interface VerifiedToken<Subject> {
  subject: Subject;
  /** The token's `exp`, Unix ms. */
  expiresAt: number;
  /** The latest of its `iat` and `nbf`, Unix ms (the full check refuses a token before then). */
  validFrom: number;
}

export type CachedVerification<Subject> = { kind: 'valid'; subject: Subject } | { kind: 'expired' } | { kind: 'miss' };

export const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 10_000;

export class VerifiedTokenCache<Subject> {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, VerifiedToken<Subject>>();

  /**
   * @param capacity most entries kept; 0 turns the cache off.
   * @param toleranceMs clock skew the full check allows (a token is valid until `exp + tolerance`).
   */
  constructor(
    readonly capacity = DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
    private readonly toleranceMs = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`cache capacity must be a whole number >= 0, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** What the full check would say of `token` at `now`, when that is known from an earlier one. */
  get(token: string, now: number): CachedVerification<Subject> {
    const entry = this.entries.get(token);
    if (!entry) return { kind: 'miss' };
    // Same comparisons as the full check (paseto: expired when now > exp + tolerance).
    if (now > entry.expiresAt + this.toleranceMs) {
      this.entries.delete(token);
      return { kind: 'expired' };
    }
    // Only a clock that went back gets here; let the full check decide.
    if (now + this.toleranceMs < entry.validFrom) return { kind: 'miss' };
    this.entries.delete(token);
    this.entries.set(token, entry);
    return { kind: 'valid', subject: entry.subject };
  }

  /** Remembers a token that has just verified in full. */
  set(token: string, entry: VerifiedToken<Subject>): void {
    if (this.capacity === 0) return;
    this.entries.delete(token);
    this.entries.set(token, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
