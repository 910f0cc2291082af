export type AuthErrorCode = 'invalid_argument' | 'unauthenticated' | 'already_exists' | 'throttled' | 'not_found';

/**
 * Why an `unauthenticated` error happened, for adapters that want to tell a client to refresh
 * (`token_expired`) rather than to sign in again. Never more precise than the message.
 */
export type AuthFailureReason = 'bad_credentials' | 'token_invalid' | 'token_expired' | 'token_reused' | 'session_ended';

export interface AuthErrorDetails {
  /** The offending input field, for `invalid_argument` and `already_exists`. */
  field?: string;
  /** How long to wait before trying again, for `throttled`. */
  retryAfterMs?: number;
  /** Finer cause of an `unauthenticated` error. */
  reason?: AuthFailureReason;
}

/**
 * The only error the auth service throws on purpose. `message` is one sentence that is safe to
 * send to the client: it never contains a password or a token.
 */
export class AuthError extends Error {
  readonly field?: string;
  readonly retryAfterMs?: number;
  readonly reason?: AuthFailureReason;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    details: AuthErrorDetails = {},
  ) {
    super(message);
    this.name = 'AuthError';
    if (details.field !== undefined) this.field = details.field;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.reason !== undefined) this.reason = details.reason;
  }
}

/** The one message for a wrong password and for an unknown login, so neither can be told apart. */
export const BAD_CREDENTIALS_MESSAGE = 'login or password is wrong';
