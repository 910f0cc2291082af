import { status } from '@grpc/grpc-js';
import { ZodError } from 'zod';
import { ConfigError, ServiceUnreachable } from '../config/env.js';
import { UnusableDirectory } from '../lib/writable-dir.js';
import { NotLoggedIn } from '../client/keeper-client.js';
import { isServiceError } from '../client/grpc-channel.js';
import { isServerBusy } from '../client/retry.js';
import { CliError, EXIT } from './exit-codes.js';
import { DomainError, type DomainErrorCode } from '../domain/errors.js';
import { ImageTransferError } from '../client/images/image-transfer.js';
import { KeeperCryptoError, WrongSecretWord, type KeeperCryptoErrorCode } from '../client/crypto/index.js';
import { VaultLocked } from '../client/sync/sync-engine.js';

/** Turns any failure into one sentence and an exit code (README's table); never a stack trace. */
export function describeFailure(error: unknown, server?: string): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof ServiceUnreachable) return { message: error.message, exitCode: EXIT.unavailable };
  if (error instanceof UnusableDirectory) return { message: error.message, exitCode: error.outOfSpace ? EXIT.failure : EXIT.usage };
  if (error instanceof NotLoggedIn) return { message: error.message, exitCode: EXIT.unauthenticated };
  if (error instanceof WrongSecretWord) return { message: 'the secret word is wrong; nothing was changed', exitCode: EXIT.unauthenticated };
  if (error instanceof VaultLocked) return { message: error.message, exitCode: EXIT.unauthenticated };
  if (error instanceof KeeperCryptoError) return { message: error.message, exitCode: CRYPTO_EXIT[error.code] ?? EXIT.failure };
  if (error instanceof DomainError) return { message: error.message, exitCode: DOMAIN_EXIT[error.code] };
  if (error instanceof ImageTransferError) return { message: error.message, exitCode: TRANSFER_EXIT[error.kind] };
  if (error instanceof ZodError) return { message: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), exitCode: EXIT.usage };
  if (isServiceError(error)) {
    const where = server ? ` at ${server}` : '';
    switch (error.code) {
      case status.UNAVAILABLE:
        if (isServerBusy(error)) {
          return { message: `the Keeper server${where} is unavailable for a moment (${error.details}); nothing was lost, try again shortly`, exitCode: EXIT.unavailable };
        }
        return { message: `cannot reach the Keeper server${where}: is it running (keeper up)? (${error.details})`, exitCode: EXIT.unavailable };
      case status.DEADLINE_EXCEEDED:
        return { message: `the Keeper server${where} did not answer in time`, exitCode: EXIT.unavailable };
      case status.UNAUTHENTICATED:
      case status.PERMISSION_DENIED:
        return { message: error.details, exitCode: EXIT.unauthenticated };
      case status.INVALID_ARGUMENT:
      case status.OUT_OF_RANGE:
        return { message: `the server refused the input: ${error.details}`, exitCode: EXIT.usage };
      case status.NOT_FOUND:
        return { message: error.details, exitCode: EXIT.notFound };
      case status.ALREADY_EXISTS:
      case status.FAILED_PRECONDITION:
      case status.ABORTED:
        return { message: error.details, exitCode: EXIT.conflict };
      case status.RESOURCE_EXHAUSTED:
        // The server says how long to wait only when it is slowing down attempts; without that it is a size or count limit.
        return { message: error.details, exitCode: error.metadata?.get('retry-after-ms').length ? EXIT.throttled : EXIT.tooLarge };
      default:
        return { message: `the server failed: ${error.details || status[error.code]}`, exitCode: EXIT.failure };
    }
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return { message: `permission denied: ${(error as Error).message}`, exitCode: EXIT.failure };
  if (code === 'EADDRINUSE') return { message: `the address is already in use: ${(error as Error).message}`, exitCode: EXIT.failure };
  return { message: error instanceof Error ? error.message : String(error), exitCode: EXIT.failure };
}

const DOMAIN_EXIT: Record<DomainErrorCode, number> = {
  record_not_found: EXIT.notFound,
  image_not_found: EXIT.notFound,
  record_exists: EXIT.conflict,
  image_exists: EXIT.conflict,
  record_deleted: EXIT.conflict,
  key_changed: EXIT.conflict,
  limit_exceeded: EXIT.tooLarge,
};

const CRYPTO_EXIT: Partial<Record<KeeperCryptoErrorCode, number>> = {
  invalid_secret_word: EXIT.usage,
  plaintext_too_large: EXIT.tooLarge,
};

const TRANSFER_EXIT: Record<ImageTransferError['kind'], number> = {
  missing_file: EXIT.notFound,
  bad_file: EXIT.usage,
  locked: EXIT.unauthenticated,
  damaged: EXIT.failure,
};
