import type { Database, SqlExecutor } from '../sql/database.js';

/** Advisory-lock class for a session (= refresh-token family); the migrations use 4242001. */
const SESSION_LOCK_CLASS = 4242002;

/**
 * Why a session ended: `logout` (Logout with its refresh token), `revoked` (RevokeSessions from
 * one of the user's sessions) or `reuse` (a refresh token was presented again after its reuse
 * window, so a copy may be in someone else's hands).
 */
export type SessionEndReason = 'logout' | 'revoked' | 'reuse';

/** The one sentence a client gets for anything presented from an ended session. */
export function sessionEndedMessage(reason: SessionEndReason | string | null | undefined): string {
  switch (reason) {
    case 'revoked':
      return 'session ended: it was revoked from another session';
    case 'reuse':
      return 'session ended: its refresh token was used twice, so it was revoked to be safe';
    default:
      return 'session ended: logged out';
  }
}

export interface SessionInfo {
  sessionId: string;
  clientId: string;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms. */
  lastUsedAt: number;
}

export interface EndedSession {
  sessionId: string;
  reason: SessionEndReason;
}

/** Serialises work on one session (rotation, revocation) across connections and replicas. */
export async function lockSession(tx: SqlExecutor, sessionId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [SESSION_LOCK_CLASS, sessionId]);
}

/** Records a new session; a session that already exists is left as it is. */
export async function createSession(db: SqlExecutor, session: { sessionId: string; userId: string; clientId: string; at: number }): Promise<void> {
  const at = new Date(session.at).toISOString();
  await db.query(
    `INSERT INTO auth_sessions (session_id, user_id, client_id, created_at, last_used_at)
     VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz) ON CONFLICT (session_id) DO NOTHING`,
    [session.sessionId, session.userId, session.clientId, at],
  );
}

/**
 * Ends a session and revokes its refresh tokens, in the caller's transaction (which must hold the
 * session's lock). False when it had already ended (its first reason is kept).
 */
export async function endSession(tx: SqlExecutor, sessionId: string, at: number, reason: SessionEndReason): Promise<boolean> {
  const when = new Date(at).toISOString();
  await tx.query(`UPDATE refresh_tokens SET revoked_at = $2::timestamptz WHERE family_id = $1 AND revoked_at IS NULL`, [sessionId, when]);
  const ended = await tx.query(
    `UPDATE auth_sessions SET ended_at = $2::timestamptz, end_reason = $3 WHERE session_id = $1 AND ended_at IS NULL RETURNING session_id`,
    [sessionId, when, reason],
  );
  return ended.length > 0;
}

/** A user's sessions as the user sees and manages them. */
export class AuthSessions {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user's sessions that have not ended, most recently used first. */
  async list(userId: string): Promise<SessionInfo[]> {
    const rows = await this.db.query<{ session_id: string; client_id: string; created_at: Date; last_used_at: Date }>(
      `SELECT session_id::text AS session_id, client_id, created_at, last_used_at FROM auth_sessions
       WHERE user_id = $1 AND ended_at IS NULL ORDER BY last_used_at DESC, created_at DESC`,
      [userId],
    );
    return rows.map((row) => ({
      sessionId: row.session_id,
      clientId: row.client_id,
      createdAt: new Date(row.created_at).getTime(),
      lastUsedAt: new Date(row.last_used_at).getTime(),
    }));
  }

  /** Ends one of the user's sessions; false when the user has no such session still going. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await lockSession(tx, sessionId);
      const [row] = await tx.query(`SELECT 1 FROM auth_sessions WHERE session_id = $1 AND user_id = $2 AND ended_at IS NULL`, [sessionId, userId]);
      if (!row) return false;
      return endSession(tx, sessionId, this.now(), 'revoked');
    });
  }

  /** Ends every session of the user's but `keep`; the ids of those ended. */
  async revokeAllOthers(userId: string, keep: string): Promise<string[]> {
    const others = await this.db.query<{ session_id: string }>(
      `SELECT session_id::text AS session_id FROM auth_sessions WHERE user_id = $1 AND ended_at IS NULL AND session_id <> $2`,
      [userId, keep],
    );
    const ended: string[] = [];
    // One short transaction per session, each under that session's lock, as a rotation takes it.
    for (const { session_id: sessionId } of others) {
      const done = await this.db.transaction(async (tx) => {
        await lockSession(tx, sessionId);
        return endSession(tx, sessionId, this.now(), 'revoked');
      });
      if (done) ended.push(sessionId);
    }
    return ended;
  }

  /** Sessions that ended at or after `since` (Unix ms). */
  async endedSince(since: number): Promise<EndedSession[]> {
    const rows = await this.db.query<{ session_id: string; end_reason: SessionEndReason }>(
      `SELECT session_id::text AS session_id, end_reason FROM auth_sessions WHERE ended_at >= $1::timestamptz`,
      [new Date(since).toISOString()],
    );
    return rows.map((row) => ({ sessionId: row.session_id, reason: row.end_reason }));
  }

  /** Moves sessions' "last used" forward (never back) to the times given (Unix ms). */
  async touch(uses: ReadonlyMap<string, number>): Promise<void> {
    if (uses.size === 0) return;
    const list = [...uses].map(([id, at]) => ({ id, at: new Date(at).toISOString() }));
    await this.db.query(
      `UPDATE auth_sessions s SET last_used_at = u.at
       FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, at timestamptz)
       WHERE s.session_id = u.id AND s.last_used_at < u.at`,
      [JSON.stringify(list)],
    );
  }
}
