import type { Session } from '../../gen/keeper/v1/auth.js';
import type { Database } from '../sql/database.js';
import { resolveAuthConfig, type AuthConfig, type AuthConfigInput } from './config.js';
import { parseLoginInput, parseRegisterInput, type ParseResult } from './credentials.js';
import { AuthError, BAD_CREDENTIALS_MESSAGE } from './errors.js';
import { PasswordHasher } from './passwords.js';
import { RefreshTokenError, RefreshTokenStore, type IssuedRefreshToken } from './refresh-tokens.js';
import { AuthSessions, sessionEndedMessage, type SessionInfo } from './auth-sessions.js';
import { SessionRevocations } from './session-revocations.js';
import { LoginThrottle } from './throttle.js';
import { AccessTokenError, TokenIssuer, type AccessTokenSubject } from './tokens.js';
import { LoginTakenError, UserStore, type UserRecord } from './users.js';

export { AuthError, BAD_CREDENTIALS_MESSAGE } from './errors.js';
export type { AuthErrorCode, AuthFailureReason } from './errors.js';

/** What Register, Login and Refresh return: the `keeper.v1.Session` message, times in Unix ms. */
export type AuthSession = Session;

export interface Credentials {
  login: string;
  password: string;
  /** Names the installation the session is for (shown in the session list); optional. */
  clientId?: string;
}

/** A session as its user sees it; `current` marks the one the asking access token belongs to. */
export type UserSession = SessionInfo & { current: boolean };

/** Who is asking: the user and session of a verified access token. */
export type Caller = Pick<AccessTokenSubject, 'userId' | 'sessionId'>;

/** Which sessions RevokeSessions ends: one by id, or all but the caller's. */
export type RevokeTarget = { sessionId: string } | { allOthers: true };

export interface AuthServiceOptions {
  /** PASERK `k4.secret` key that signs access tokens (see TokenIssuer.generateSecretKey). */
  accessTokenSecretKey: string;
  config?: AuthConfigInput;
  /** Current time in ms, for tokens and throttling; default Date.now. */
  clock?: () => number;
  /** Told when recording sessions' last use failed (advisory data; retried later). */
  onBackgroundError?: (error: unknown) => void;
}

/** A refresh token longer than this cannot be one of ours (they are 43 characters). */
const MAX_REFRESH_TOKEN_LENGTH = 512;
/** Access tokens are a few hundred characters; refuse megabyte headers before verifying. */
const MAX_ACCESS_TOKEN_LENGTH = 4096;

/**
 * Registration, login, refresh and logout. Throws only AuthError for anything the caller did (bad
 * input, wrong credentials, bad tokens, throttling); other errors are faults (e.g. the database).
 */
export class AuthService {
  readonly config: AuthConfig;
  private readonly users: UserStore;
  private readonly refreshTokens: RefreshTokenStore;
  private readonly sessions: AuthSessions;
  private readonly revocations: SessionRevocations;
  private readonly hasher: PasswordHasher;
  private readonly throttle: LoginThrottle;

  private constructor(
    db: Database,
    private readonly tokens: TokenIssuer,
    config: AuthConfig,
    clock: () => number,
    onBackgroundError: (error: unknown) => void,
  ) {
    this.config = config;
    this.hasher = new PasswordHasher(config.bcryptCost);
    this.users = new UserStore(db);
    this.refreshTokens = new RefreshTokenStore(db, {
      ttlSeconds: config.refreshTokenTtlSeconds,
      reuseWindowSeconds: config.refreshReuseWindowSeconds,
      now: clock,
    });
    this.sessions = new AuthSessions(db, clock);
    this.revocations = new SessionRevocations(this.sessions, {
      checkMs: config.sessionCheckMs,
      // An ended session gets no new access token, so after one lifetime none of its tokens is valid.
      horizonMs: config.accessTokenTtlSeconds * 1000 + 60_000,
      now: clock,
      onTouchError: onBackgroundError,
    });
    this.throttle = new LoginThrottle(config.throttle, clock);
  }

  static async create(db: Database, options: AuthServiceOptions): Promise<AuthService> {
    const config = resolveAuthConfig(options.config);
    if (!Number.isInteger(config.sessionCheckMs) || config.sessionCheckMs < 0) {
      throw new RangeError(`session check interval must be a whole number of ms >= 0, got ${config.sessionCheckMs}`);
    }
    const clock = options.clock ?? Date.now;
    const tokens = await TokenIssuer.fromSecretKey(options.accessTokenSecretKey, { ttlSeconds: config.accessTokenTtlSeconds, now: clock });
    const service = new AuthService(db, tokens, config, clock, options.onBackgroundError ?? (() => {}));
    await service.hasher.warmUp();
    return service;
  }

  /** Creates an account and signs it in. `peer` is the client address (see peerAddress). */
  async register(input: Credentials, peer: string): Promise<AuthSession> {
    const { login, password, clientId } = valid(parseRegisterInput(input));
    // Registering reveals whether a login is taken, so repeated conflicts from one peer slow its
    // registrations down (and only those: a lost registration race must not block a login).
    this.throwIfThrottled(this.throttle.checkRegister(peer));
    if (await this.users.findByLogin(login)) this.loginTaken(peer);
    const hash = await this.hasher.hash(password);
    let userId: string;
    try {
      userId = await this.users.create(login, hash);
    } catch (error) {
      if (error instanceof LoginTakenError) this.loginTaken(peer);
      throw error;
    }
    return this.startSession({ userId, login }, clientId);
  }

  /**
   * Signs in. A wrong password and an unknown login fail alike, in message and (through a dummy
   * bcrypt compare) in time.
   */
  async login(input: Credentials, peer: string): Promise<AuthSession> {
    const { login, password, clientId } = valid(parseLoginInput(input));
    this.throwIfThrottled(this.throttle.begin(login, peer));
    let user: UserRecord | null;
    let ok: boolean;
    try {
      user = await this.users.findByLogin(login);
      ok = user ? await this.hasher.verify(password, user.passwordHash) : await this.hasher.verifyDummy(password);
    } catch (error) {
      this.throttle.release(login, peer); // a fault is not a failed guess
      throw error;
    }
    if (!user || !ok) {
      this.throttle.fail(login, peer);
      throw new AuthError('unauthenticated', BAD_CREDENTIALS_MESSAGE, { reason: 'bad_credentials' });
    }
    this.throttle.succeed(login, peer);
    if (this.hasher.needsRehash(user.passwordHash)) {
      await this.users.setPasswordHash(user.userId, await this.hasher.hash(password));
    }
    return this.startSession({ userId: user.userId, login: user.login }, clientId);
  }

  /** Uses up a refresh token and returns a new session of the same family. */
  async refresh(input: { refreshToken: string }): Promise<AuthSession> {
    const presented = refreshTokenOf(input);
    let next: IssuedRefreshToken;
    try {
      next = await this.refreshTokens.rotate(presented);
    } catch (error) {
      if (error instanceof RefreshTokenError) throw refreshFailure(error);
      throw error;
    }
    const user = await this.users.findById(next.userId);
    if (!user) throw new AuthError('unauthenticated', 'refresh token is invalid', { reason: 'token_invalid' });
    const access = await this.tokens.issue({ userId: user.userId, login: user.login, sessionId: next.familyId });
    return session(user.userId, user.login, access, next);
  }

  /**
   * Ends the session (the refresh token's whole family): its refresh token and every access token
   * of it stop working. Quietly does nothing for an unknown token.
   */
  async logout(input: { refreshToken: string }): Promise<void> {
    const sessionId = await this.refreshTokens.revokeFamily(refreshTokenOf(input));
    if (sessionId) this.revocations.markEnded(sessionId, 'logout');
  }

  /**
   * The user an access token belongs to, and its session; AuthError `unauthenticated` when the
   * token is expired or invalid or its session has ended.
   */
  async verifyAccessToken(token: string): Promise<AccessTokenSubject> {
    if (typeof token !== 'string' || token === '' || token.length > MAX_ACCESS_TOKEN_LENGTH) {
      throw new AuthError('unauthenticated', 'access token is invalid', { reason: 'token_invalid' });
    }
    let subject: AccessTokenSubject;
    try {
      subject = await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof AccessTokenError) {
        throw new AuthError('unauthenticated', error.message, { reason: error.reason === 'expired' ? 'token_expired' : 'token_invalid' });
      }
      throw error;
    }
    const ended = await this.revocations.endReason(subject.sessionId);
    if (ended) throw new AuthError('unauthenticated', sessionEndedMessage(ended), { reason: 'session_ended' });
    return subject;
  }

  /** The caller's sessions that go on, most recently used first. */
  async listSessions(caller: Caller): Promise<UserSession[]> {
    const list = await this.sessions.list(caller.userId);
    return list.map((info) => ({ ...info, current: info.sessionId === caller.sessionId }));
  }

  /** Ends one of the caller's sessions or all the others; how many ended. */
  async revokeSessions(caller: Caller, target: RevokeTarget): Promise<number> {
    if ('allOthers' in target) {
      const ended = await this.sessions.revokeAllOthers(caller.userId, caller.sessionId);
      for (const id of ended) this.revocations.markEnded(id, 'revoked');
      return ended.length;
    }
    if (!(await this.sessions.revoke(caller.userId, target.sessionId))) {
      throw new AuthError('not_found', 'sessionId: you have no such session going on (see ListSessions)', { field: 'sessionId' });
    }
    this.revocations.markEnded(target.sessionId, 'revoked');
    return 1;
  }

  private async startSession(user: { userId: string; login: string }, clientId: string): Promise<AuthSession> {
    const refresh = await this.refreshTokens.issue(user.userId, undefined, clientId);
    const access = await this.tokens.issue({ ...user, sessionId: refresh.familyId });
    return session(user.userId, user.login, access, refresh);
  }

  private throwIfThrottled(retryAfterMs: number | null): void {
    if (retryAfterMs === null) return;
    const seconds = Math.ceil(retryAfterMs / 1000);
    throw new AuthError('throttled', `too many failed attempts; try again in ${seconds} second${seconds === 1 ? '' : 's'}`, {
      retryAfterMs,
    });
  }

  private loginTaken(peer: string): never {
    this.throttle.loginTaken(peer);
    throw new AuthError('already_exists', 'login: is already taken', { field: 'login' });
  }
}

function valid<T>(result: ParseResult<T>): T {
  if (result.ok) return result.value;
  throw new AuthError('invalid_argument', result.problem.message, { field: result.problem.field });
}

function refreshTokenOf(input: { refreshToken: string }): string {
  const token: unknown = input?.refreshToken;
  if (typeof token !== 'string' || token === '') {
    throw new AuthError('invalid_argument', 'refreshToken: is required', { field: 'refreshToken' });
  }
  if (token.length > MAX_REFRESH_TOKEN_LENGTH) {
    throw new AuthError('unauthenticated', 'refresh token is invalid', { reason: 'token_invalid' });
  }
  return token;
}

function refreshFailure(error: RefreshTokenError): AuthError {
  const reason =
    error.reason === 'expired' ? 'token_expired' : error.reason === 'reused' ? 'token_reused' : error.reason === 'ended' ? 'session_ended' : 'token_invalid';
  return new AuthError('unauthenticated', error.message, { reason });
}

function session(
  userId: string,
  login: string,
  access: { token: string; expiresAt: number },
  refresh: { token: string; expiresAt: number },
): AuthSession {
  return {
    userId,
    login,
    accessToken: access.token,
    accessExpiresAt: access.expiresAt,
    refreshToken: refresh.token,
    refreshExpiresAt: refresh.expiresAt,
  };
}
