import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database, SqlExecutor } from '../sql/database.js';

export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;

/** Advisory-lock class for refresh-token families (the migrations use 4242001). */
const FAMILY_LOCK_CLASS = 4242002;

export interface IssuedRefreshToken {
  /** The opaque token for the client; only its SHA-256 is stored. */
  token: string;
  familyId: string;
  userId: string;
  /** Unix time in milliseconds. */
  expiresAt: number;
}

/**
 * A refresh token that cannot be used. `reused`: it had already been used or revoked, so its whole
 * family has just been revoked (a copy of it may be in someone else's hands).
 */
export class RefreshTokenError extends Error {
  constructor(readonly reason: 'invalid' | 'expired' | 'reused') {
    super(
      reason === 'invalid'
        ? 'refresh token is invalid'
        : reason === 'expired'
          ? 'refresh token has expired'
          : 'refresh token was already used, so its session has been revoked',
    );
    this.name = 'RefreshTokenError';
  }
}

export interface RefreshTokenStoreOptions {
  /** Lifetime of each refresh token in seconds; default 30 days. */
  ttlSeconds?: number;
  /** Current time in ms; default Date.now. Expiry is judged by this clock, not the database's. */
  now?: () => number;
}

type RotateOutcome = { ok: true; issued: IssuedRefreshToken } | { ok: false; reason: RefreshTokenError['reason'] };

/**
 * Opaque rotating refresh tokens in `refresh_tokens`. Each login starts a family; every refresh
 * uses up the presented token and issues the next one of the family. Presenting a used or revoked
 * token again revokes the family (reuse detection). Work on one family is serialised by an advisory
 * transaction lock, so a rotation and a revocation of the same family cannot interleave.
 */
export class RefreshTokenStore {
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    options: RefreshTokenStoreOptions = {},
  ) {
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_REFRESH_TOKEN_TTL_SECONDS;
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
      throw new RangeError(`refresh token TTL must be a positive number of seconds, got ${ttlSeconds}`);
    }
    this.ttlMs = Math.round(ttlSeconds * 1000);
    this.now = options.now ?? Date.now;
  }

  /** A new token for `userId`, in `familyId` or else in a new family. */
  issue(userId: string, familyId?: string): Promise<IssuedRefreshToken> {
    return this.insert(this.db, userId, familyId ?? randomUUID(), this.now());
  }

  /**
   * Uses up `token` and returns the next token of its family. Throws RefreshTokenError when the
   * token is unknown, expired, or already used or revoked (the family is then revoked, durably).
   */
  async rotate(token: string): Promise<IssuedRefreshToken> {
    const hash = hashToken(token);
    const now = this.now();
    const at = new Date(now).toISOString();
    const outcome = await this.db.transaction<RotateOutcome>(async (tx) => {
      const familyId = await lockFamilyOf(tx, hash);
      if (familyId === null) return { ok: false, reason: 'invalid' };
      const claimed = await tx.query<{ user_id: string }>(
        `UPDATE refresh_tokens SET used_at = $2::timestamptz
         WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2::timestamptz
         RETURNING user_id::text AS user_id`,
        [hash, at],
      );
      const userId = claimed[0]?.user_id;
      if (userId !== undefined) return { ok: true, issued: await this.insert(tx, userId, familyId, now) };

      const [row] = await tx.query<{ spent: boolean }>(
        `SELECT (used_at IS NOT NULL OR revoked_at IS NOT NULL) AS spent FROM refresh_tokens WHERE token_hash = $1`,
        [hash],
      );
      if (!row?.spent) return { ok: false, reason: 'expired' };
      await revoke(tx, familyId, at);
      return { ok: false, reason: 'reused' };
    });
    // Thrown only after the transaction committed, so a reuse revocation is kept.
    if (!outcome.ok) throw new RefreshTokenError(outcome.reason);
    return outcome.issued;
  }

  /** Revokes every token of the family `token` belongs to (logout). False if the token is unknown. */
  async revokeFamily(token: string): Promise<boolean> {
    const hash = hashToken(token);
    const at = new Date(this.now()).toISOString();
    return this.db.transaction(async (tx) => {
      const familyId = await lockFamilyOf(tx, hash);
      if (familyId === null) return false;
      await revoke(tx, familyId, at);
      return true;
    });
  }

  /**
   * Deletes the families whose every token has expired (none of them can be used any more) and
   * returns how many rows went. Families with a live token are kept whole, for reuse detection.
   */
  async purgeExpired(): Promise<number> {
    const rows = await this.db.query<{ token_hash: string }>(
      `DELETE FROM refresh_tokens WHERE family_id IN (
         SELECT family_id FROM refresh_tokens GROUP BY family_id HAVING max(expires_at) <= $1::timestamptz
       ) RETURNING token_hash`,
      [new Date(this.now()).toISOString()],
    );
    return rows.length;
  }

  private async insert(db: SqlExecutor, userId: string, familyId: string, now: number): Promise<IssuedRefreshToken> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    await db.query(
      `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)`,
      [hashToken(token), familyId, userId, new Date(now).toISOString(), new Date(expiresAt).toISOString()],
    );
    return { token, familyId, userId, expiresAt };
  }
}

/** SHA-256 (hex) of a token: what the table stores instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

async function lockFamilyOf(tx: SqlExecutor, hash: string): Promise<string | null> {
  const [row] = await tx.query<{ family_id: string }>(
    `SELECT family_id::text AS family_id FROM refresh_tokens WHERE token_hash = $1`,
    [hash],
  );
  if (!row) return null;
  await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [FAMILY_LOCK_CLASS, row.family_id]);
  return row.family_id;
}

async function revoke(tx: SqlExecutor, familyId: string, at: string): Promise<void> {
  await tx.query(
    `UPDATE refresh_tokens SET revoked_at = $2::timestamptz WHERE family_id = $1 AND revoked_at IS NULL`,
    [familyId, at],
  );
}
