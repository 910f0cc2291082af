import type { AuthSessions, SessionEndReason } from './auth-sessions.js';

export const DEFAULT_SESSION_CHECK_MS = 1_000;
const DEFAULT_TOUCH_EVERY_MS = 60_000;

export interface SessionRevocationsOptions {
  /**
   * The longest an answer may lag a revocation made by another replica over the same database:
   * the ended sessions are read again when the last read is older than this (default 1 s).
   */
  checkMs?: number;
  /**
   * How long an ended session matters: an access token's lifetime (plus slack). Past that, every
   * access token of the session has expired anyway, since an ended session gets no new ones.
   */
  horizonMs: number;
  /** How often the sessions' "last used" times are written (default 1 min). */
  touchEveryMs?: number;
  now?: () => number;
  /** Told when writing "last used" times failed (they are advisory; the next write retries). */
  onTouchError?: (error: unknown) => void;
}

/**
 * The set of recently ended sessions, kept in memory so that checking an access token's session
 * costs a map lookup: one query at most every `checkMs` per process (awaited by the call that
 * finds the set stale; concurrent calls share it) keeps it current with every replica's
 * revocations. A revocation made in this process counts at once.
 *
 * It also gathers when each session was last used and writes that in batches.
 */
export class SessionRevocations {
  /** Session id -> why it ended and when this process learned of it (Unix ms). */
  private ended = new Map<string, { reason: SessionEndReason; seenAt: number }>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private uses = new Map<string, number>();
  private touchedAt: number;
  private readonly checkMs: number;
  private readonly touchEveryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly sessions: AuthSessions,
    private readonly options: SessionRevocationsOptions,
  ) {
    this.checkMs = options.checkMs ?? DEFAULT_SESSION_CHECK_MS;
    this.touchEveryMs = options.touchEveryMs ?? DEFAULT_TOUCH_EVERY_MS;
    this.now = options.now ?? Date.now;
    this.touchedAt = this.now();
  }

  /** Why the session ended, or null while it goes on (its use is then recorded). */
  async endReason(sessionId: string): Promise<SessionEndReason | null> {
    if (this.now() - this.loadedAt >= this.checkMs) await this.reload();
    const ended = this.ended.get(sessionId);
    if (ended) return ended.reason;
    this.uses.set(sessionId, this.now());
    return null;
  }

  /** A session this process has just ended: refused here from now on, elsewhere within checkMs. */
  markEnded(sessionId: string, reason: SessionEndReason): void {
    this.ended.set(sessionId, { reason, seenAt: this.now() });
    this.uses.delete(sessionId);
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const started = this.now();
    const rows = await this.sessions.endedSince(started - this.options.horizonMs);
    const next = new Map<string, { reason: SessionEndReason; seenAt: number }>();
    // Sessions marked here while the query ran may not be in its snapshot: keep what is recent.
    for (const [id, entry] of this.ended) if (entry.seenAt >= started - this.options.horizonMs) next.set(id, entry);
    for (const row of rows) if (!next.has(row.sessionId)) next.set(row.sessionId, { reason: row.reason, seenAt: started });
    this.ended = next;
    // Counted from when the query started: nothing committed before then can be missing.
    this.loadedAt = started;
    if (started - this.touchedAt >= this.touchEveryMs) this.flushUses(started);
  }

  private flushUses(now: number): void {
    this.touchedAt = now;
    const uses = this.uses;
    this.uses = new Map();
    this.sessions.touch(uses).catch((error: unknown) => this.options.onTouchError?.(error));
  }
}
