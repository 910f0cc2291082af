import { status } from '@grpc/grpc-js';
import { ZodError } from 'zod';
import { DomainError, type DomainErrorCode } from '../../domain/errors.js';
import { UnusableDirectory } from '../../lib/writable-dir.js';
import { KeeperCryptoError, WrongSecretWord, type KeeperCryptoErrorCode } from '../crypto/index.js';
import { isServiceError } from '../grpc-channel.js';
import { ImageTransferError } from '../images/image-transfer.js';
import { NotLoggedIn } from '../keeper-client.js';
import { isServerBusy } from '../retry.js';
import { VaultLocked } from '../sync/key-ring.js';

/**
 * What went wrong, as every face needs to know it: the kind decides what a face does (the CLI's
 * exit code, the TUI's connect screen, the agent's HTTP status), the message is one sentence in
 * no face's words (no command to type, no key to press).
 */
export const FAILURE_KINDS = [
  /** No session for this user: log in. */
  'not-logged-in',
  /** The session was ended (logged out, revoked, expired): log in again. `why` says which. */
  'session-ended',
  /** The vault is encrypted and its key is not at hand. */
  'locked',
  'wrong-secret',
  /** The server refused who is asking (a wrong password, a record that is not theirs). */
  'refused',
  'not-found',
  /** A reference that fits more than one record or image. */
  'ambiguous',
  /** Input the client or the server will not take. */
  'invalid',
  /** The vault changed meanwhile, or the name or id is taken. */
  'conflict',
  /** The server cannot be reached (or did not answer in time). */
  'offline',
  /** The server answered that it cannot serve the call for a moment; retrying is safe. */
  'unavailable',
  /** Too many attempts: wait `retryAfterMs`. */
  'throttled',
  /** Over a size or count limit. */
  'too-large',
  /** Bytes that arrived or were kept damaged. */
  'damaged',
  /** Anything else: a bug, or the machine refused (permissions, space). */
  'failed',
] as const;

export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface FailureDetail {
  /** session-ended: why, in the server's words ("logged out", "it was revoked from another session"). */
  why?: string | undefined;
  /** throttled and unavailable: how long the server asked to wait. */
  retryAfterMs?: number | undefined;
  /** offline and unavailable: the transport's own words (a TLS or connection error). */
  transport?: string | undefined;
}

export class KeeperFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly detail: FailureDetail = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KeeperFailure';
  }
}

/** Any error the client core can meet, as a failure of a kind; `server` names the server in sentences. */
export function failureOf(error: unknown, server?: string): KeeperFailure {
  if (error instanceof KeeperFailure) return error;
  const made = (kind: FailureKind, message: string, detail: FailureDetail = {}) => new KeeperFailure(kind, message, detail, { cause: error });
  if (error instanceof NotLoggedIn) return error.why === undefined ? made('not-logged-in', error.message) : made('session-ended', error.message, { why: error.why });
  if (error instanceof WrongSecretWord) return made('wrong-secret', 'the secret word is wrong; nothing was changed');
  if (error instanceof VaultLocked) return made('locked', error.message);
  if (error instanceof KeeperCryptoError) return made(CRYPTO_KIND[error.code] ?? 'failed', error.message);
  if (error instanceof DomainError) return made(DOMAIN_KIND[error.code], error.message);
  if (error instanceof ImageTransferError) return made(TRANSFER_KIND[error.kind], error.message);
  if (error instanceof UnusableDirectory) return made(error.outOfSpace ? 'failed' : 'invalid', error.message);
  if (error instanceof ZodError) return made('invalid', error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (isServiceError(error)) return fromStatus(error, server ? ` at ${server}` : '', made);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return made('failed', `permission denied: ${(error as Error).message}`);
  return made('failed', error instanceof Error ? error.message : String(error));
}

/**
 * What grpc-js says of a connection that failed, without its wrapping: "No connection
 * established. Last error: Error: connect ECONNREFUSED 127.0.0.1:7070. Resolution note: " says
 * "connect ECONNREFUSED 127.0.0.1:7070".
 */
export function transportReason(details: string): string {
  const last = /Last error: (?:Error: )?([\s\S]*?)(?:\.?\s*Resolution note:[\s\S]*)?$/.exec(details);
  const reason = (last ? last[1]! : details).trim().replace(/\.$/, '');
  return reason === '' ? 'no connection' : reason;
}

function fromStatus(
  error: import('@grpc/grpc-js').ServiceError,
  where: string,
  made: (kind: FailureKind, message: string, detail?: FailureDetail) => KeeperFailure,
): KeeperFailure {
  const retryAfterMs = Number(error.metadata?.get('retry-after-ms')[0] ?? Number.NaN);
  const asked = Number.isFinite(retryAfterMs) ? retryAfterMs : undefined;
  switch (error.code) {
    case status.UNAVAILABLE:
      if (isServerBusy(error)) return made('unavailable', `the Keeper server${where} is unavailable for a moment (${error.details}); nothing was lost`, { retryAfterMs: asked, transport: error.details });
      return made('offline', `cannot reach the Keeper server${where} (${transportReason(error.details)})`, { transport: error.details });
    case status.DEADLINE_EXCEEDED:
      return made('offline', `the Keeper server${where} did not answer in time`, { transport: error.details });
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      if (/^session ended: /.test(error.details)) {
        const why = error.details.replace(/^session ended: /, '');
        return made('session-ended', `session ended (${why})`, { why });
      }
      return made('refused', error.details);
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return made('invalid', `the server refused the input: ${error.details}`);
    case status.NOT_FOUND:
      return made('not-found', error.details);
    case status.ALREADY_EXISTS:
    case status.FAILED_PRECONDITION:
    case status.ABORTED:
      return made('conflict', error.details);
    case status.RESOURCE_EXHAUSTED:
      // The server says how long to wait only when it is slowing down attempts; without that it is a size or count limit.
      return asked === undefined ? made('too-large', error.details) : made('throttled', error.details, { retryAfterMs: asked });
    default:
      return made('failed', `the server failed: ${error.details || status[error.code]}`);
  }
}

/** The server could not be reached, or could not serve for a moment: the local copy is what there is. */
export function isOffline(error: unknown): boolean {
  const kind = failureOf(error).kind;
  return kind === 'offline' || kind === 'unavailable';
}

const DOMAIN_KIND: Record<DomainErrorCode, FailureKind> = {
  record_not_found: 'not-found',
  image_not_found: 'not-found',
  record_exists: 'conflict',
  image_exists: 'conflict',
  record_deleted: 'conflict',
  key_changed: 'conflict',
  limit_exceeded: 'too-large',
};

const CRYPTO_KIND: Partial<Record<KeeperCryptoErrorCode, FailureKind>> = {
  invalid_secret_word: 'invalid',
  plaintext_too_large: 'too-large',
  corrupt_cache: 'damaged',
  malformed_sealed_value: 'damaged',
  sealed_value_rejected: 'damaged',
};

const TRANSFER_KIND: Record<ImageTransferError['kind'], FailureKind> = {
  missing_file: 'not-found',
  bad_file: 'invalid',
  locked: 'locked',
  damaged: 'damaged',
};
