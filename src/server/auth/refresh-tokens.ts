import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import type { Database, SqlExecutor } from '../sql/database.js';
import { createSession, endSession, lockSession, sessionEndedMessage, type SessionEndReason } from './auth-sessions.js';

export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
/** How long a used refresh token still answers with the token it was exchanged for. */
export const DEFAULT_REFRESH_REUSE_WINDOW_SECONDS = 10;

export interface IssuedRefreshToken {
  /** The opaque token for the client; only its SHA-256 is stored. */
  token: string;
  /** The session: every token of one login shares it. */
  familyId: string;
  userId: string;
  /** Unix time in milliseconds. */
  expiresAt: number;
}

/**
 * A refresh token that cannot be used. `reused`: it had already been used (and its reuse window
 * had passed) or revoked, so its whole family has just been revoked (a copy of it may be in
 * someone else's hands). `ended`: its session had already ended (`endReason` says how).
 */
export class RefreshTokenError extends Error {
  constructor(
    readonly reason: 'invalid' | 'expired' | 'reused' | 'ended',
    readonly endReason?: SessionEndReason,
  ) {
    super(
      reason === 'invalid'
        ? 'refresh token is invalid'
        : reason === 'expired'
          ? 'refresh token has expired'
          : reason === 'ended'
            ? sessionEndedMessage(endReason)
            : 'refresh token was already used, so its session has been revoked',
    );
    this.name = 'RefreshTokenError';
  }
}

export interface RefreshTokenStoreOptions {
  /** Lifetime of each refresh token in seconds; default 30 days. */
  ttlSeconds?: number;
  /**
   * Seconds after a rotation in which the used token, presented again, gets the same successor
   * (a client retrying a Refresh whose answer it lost) instead of revoking the family; default 10,
   * 0 turns it off.
   */
  reuseWindowSeconds?: number;
  /** Current time in ms; default Date.now. Expiry is judged by this clock, not the database's. */
  now?: () => number;
}

type RotateOutcome = { ok: true; issued: IssuedRefreshToken } | { ok: false; reason: RefreshTokenError['reason']; endReason?: SessionEndReason };

interface TokenRow {
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  successor_hash: string | null;
  successor_sealed: string | null;
  ended_at: Date | null;
  end_reason: SessionEndReason | null;
}

/**
 * Opaque rotating refresh tokens in `refresh_tokens`. Each login starts a family (a session, in
 * `auth_sessions`); every refresh uses up the presented token and issues the next one of the
 * family. Presenting a used token again within the reuse window returns the same successor, as
 * long as that is still unused; later, or once the successor was used, it revokes the family
 * (reuse detection). Work on one family is serialised by an advisory transaction lock, so a
 * rotation and a revocation of the same family cannot interleave.
 */
export class RefreshTokenStore {
  private readonly ttlMs: number;
  private readonly reuseWindowMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    options: RefreshTokenStoreOptions = {},
  ) {
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_REFRESH_TOKEN_TTL_SECONDS;
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
      throw new RangeError(`refresh token TTL must be a positive number of seconds, got ${ttlSeconds}`);
    }
    const windowSeconds = options.reuseWindowSeconds ?? DEFAULT_REFRESH_REUSE_WINDOW_SECONDS;
    if (!Number.isFinite(windowSeconds) || windowSeconds < 0) {
      throw new RangeError(`refresh token reuse window must be 0 or more seconds, got ${windowSeconds}`);
    }
    this.ttlMs = Math.round(ttlSeconds * 1000);
    this.reuseWindowMs = Math.round(windowSeconds * 1000);
    this.now = options.now ?? Date.now;
  }

  /**
   * A new token for `userId`: the first of a new session (named by `clientId`), or the next one
   * in `familyId`.
   */
  async issue(userId: string, familyId?: string, clientId = ''): Promise<IssuedRefreshToken> {
    const now = this.now();
    const sessionId = familyId ?? randomUUID();
    return this.db.transaction(async (tx) => {
      await createSession(tx, { sessionId, userId, clientId, at: now });
      return this.insert(tx, userId, sessionId, now);
    });
  }

  /**
   * Uses up `token` and returns the next token of its family. Throws RefreshTokenError when the
   * token is unknown, expired, already used or revoked (the family is then revoked, durably), or
   * its session has ended.
   */
  async rotate(token: string): Promise<IssuedRefreshToken> {
    const hash = hashToken(token);
    const now = this.now();
    const at = new Date(now).toISOString();
    const outcome = await this.db.transaction<RotateOutcome>(async (tx) => {
      const familyId = await lockFamilyOf(tx, hash);
      if (familyId === null) return { ok: false, reason: 'invalid' };
      const [row] = await tx.query<TokenRow>(
        `SELECT t.user_id::text AS user_id, t.expires_at, t.used_at, t.revoked_at, t.successor_hash, t.successor_sealed,
                s.ended_at, s.end_reason
         FROM refresh_tokens t LEFT JOIN auth_sessions s ON s.session_id = t.family_id
         WHERE t.token_hash = $1`,
        [hash],
      );
      if (!row) return { ok: false, reason: 'invalid' };
      if (row.ended_at !== null) return { ok: false, reason: 'ended', endReason: row.end_reason ?? 'logout' };
      const spent = row.used_at !== null || row.revoked_at !== null;
      if (!spent) {
        if (time(row.expires_at) <= now) return { ok: false, reason: 'expired' };
        const issued = await this.insert(tx, row.user_id, familyId, now);
        await tx.query(
          `UPDATE refresh_tokens SET used_at = $2::timestamptz, successor_hash = $3, successor_sealed = $4 WHERE token_hash = $1`,
          [hash, at, hashToken(issued.token), sealSuccessor(token, issued.token)],
        );
        await tx.query(`UPDATE auth_sessions SET last_used_at = $2::timestamptz WHERE session_id = $1`, [familyId, at]);
        return { ok: true, issued };
      }
      const again = await this.sameSuccessor(tx, token, row, now);
      if (again) return { ok: true, issued: { ...again, familyId, userId: row.user_id } };
      await endSession(tx, familyId, now, 'reuse');
      return { ok: false, reason: 'reused' };
    });
    // Thrown only after the transaction committed, so a reuse revocation is kept.
    if (!outcome.ok) throw new RefreshTokenError(outcome.reason, outcome.endReason);
    return outcome.issued;
  }

  /**
   * The successor a used token was exchanged for, when the token is presented again within the
   * reuse window and that successor is still unused: a retry, not a theft.
   */
  private async sameSuccessor(tx: SqlExecutor, token: string, row: TokenRow, now: number): Promise<{ token: string; expiresAt: number } | null> {
    if (row.revoked_at !== null || row.used_at === null || !row.successor_hash || !row.successor_sealed) return null;
    if (now - time(row.used_at) > this.reuseWindowMs) return null;
    const [successor] = await tx.query<{ expires_at: Date }>(
      `SELECT expires_at FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL`,
      [row.successor_hash],
    );
    if (!successor || time(successor.expires_at) <= now) return null;
    const opened = openSuccessor(token, row.successor_sealed);
    if (opened === null || hashToken(opened) !== row.successor_hash) return null;
    return { token: opened, expiresAt: time(successor.expires_at) };
  }

  /** Ends the session `token` belongs to (logout) and returns its id; null if the token is unknown. */
  async revokeFamily(token: string): Promise<string | null> {
    const hash = hashToken(token);
    return this.db.transaction(async (tx) => {
      const familyId = await lockFamilyOf(tx, hash);
      if (familyId === null) return null;
      await endSession(tx, familyId, this.now(), 'logout');
      return familyId;
    });
  }

  /**
   * Deletes the families whose every token has expired (none of them can be used any more), with
   * their sessions, and returns how many token rows went. Families with a live token are kept whole, for reuse detection.
   */
  async purgeExpired(): Promise<number> {
    const rows = await this.db.query<{ token_hash: string }>(
      `DELETE FROM refresh_tokens WHERE family_id IN (
         SELECT family_id FROM refresh_tokens GROUP BY family_id HAVING max(expires_at) <= $1::timestamptz
       ) RETURNING token_hash`,
      [new Date(this.now()).toISOString()],
    );
    await this.db.query(`DELETE FROM auth_sessions s WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = s.session_id)`);
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
  await lockSession(tx, row.family_id);
  return row.family_id;
}

function time(value: Date | string): number {
  return new Date(value).getTime();
}

const SUCCESSOR_INFO = 'keeper refresh-token successor v1';

/** A key only the holder of `token` can make: the table keeps the token's hash, never the token. */
function successorKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), Buffer.alloc(0), SUCCESSOR_INFO, 32));
}

/** The successor sealed (AES-256-GCM) under a key derived from the token it replaces. */
function sealSuccessor(token: string, successor: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', successorKey(token), iv);
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function openSuccessor(token: string, sealed: string): string | null {
  try {
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', successorKey(token), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
