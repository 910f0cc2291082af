import { hash, randomBytes } from 'node:crypto';

/** What an access token stands for while it lives. */
export interface AccessGrant {
  userId: string;
  issuedAt: number;
  lastUsedAt: number;
}

export interface AccessTokenLifetimes {
  /** A token unused this long ends. */
  idleMs: number;
  /** A token ends this long after it was issued, used or not. */
  absoluteMs: number;
}

const PREFIX = 'kpa_';
const TOKEN_BYTES = 32;

function digest(token: string): string {
  // (The one-shot hash: it is taken on every request, and a Hash object per call cost twice as much.)
  return hash('sha256', token, 'base64url');
}

/**
 * Access tokens (the agent's bearer tokens, the bot's chat links): 256 random bits each, kept only as their SHA-256 (a dump of the
 * process's memory does not hand out working tokens), with an idle and an absolute lifetime, and
 * revocable one by one or all of a user's at once.
 */
export class AccessTokens {
  private readonly grants = new Map<string, AccessGrant>();

  constructor(
    private readonly lifetimes: AccessTokenLifetimes,
    private readonly now: () => number = Date.now,
  ) {}

  issue(userId: string): { token: string; expiresAt: number } {
    const token = PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    const at = this.now();
    this.grants.set(digest(token), { userId, issuedAt: at, lastUsedAt: at });
    return { token, expiresAt: at + this.lifetimes.absoluteMs };
  }

  /** The grant of a live token (its idle clock restarted), or undefined for an unknown or ended one. */
  use(token: string): AccessGrant | undefined {
    if (!token.startsWith(PREFIX) || token.length > 100) return undefined;
    const key = digest(token);
    const grant = this.grants.get(key);
    if (!grant) return undefined;
    const at = this.now();
    if (this.ended(grant, at)) {
      this.grants.delete(key);
      return undefined;
    }
    grant.lastUsedAt = at;
    return grant;
  }

  revoke(token: string): AccessGrant | undefined {
    const key = digest(token);
    const grant = this.grants.get(key);
    this.grants.delete(key);
    return grant;
  }

  /** Ends every token of a user; how many. */
  revokeUser(userId: string): number {
    let revoked = 0;
    for (const [key, grant] of this.grants) {
      if (grant.userId !== userId) continue;
      this.grants.delete(key);
      revoked++;
    }
    return revoked;
  }

  /** Live tokens of a user. */
  countOf(userId: string): number {
    const at = this.now();
    let count = 0;
    for (const grant of this.grants.values()) if (grant.userId === userId && !this.ended(grant, at)) count++;
    return count;
  }

  /** Forgets ended tokens; the users left without any. */
  sweep(): string[] {
    const at = this.now();
    const touched = new Set<string>();
    for (const [key, grant] of this.grants) {
      if (!this.ended(grant, at)) continue;
      this.grants.delete(key);
      touched.add(grant.userId);
    }
    return [...touched].filter((userId) => this.countOf(userId) === 0);
  }

  private ended(grant: AccessGrant, at: number): boolean {
    return at - grant.lastUsedAt >= this.lifetimes.idleMs || at - grant.issuedAt >= this.lifetimes.absoluteMs;
  }
}
