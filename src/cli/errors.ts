import { status } from '@grpc/grpc-js';
import { ZodError } from 'zod';
import { ConfigError } from '../config/env.js';
import { NotLoggedIn } from '../client/keeper-client.js';
import { isServiceError } from '../client/grpc-channel.js';
import { CliError, EXIT } from './exit-codes.js';
import { DomainError } from '../domain/errors.js';
import { KeeperCryptoError, WrongSecretWord } from '../client/crypto/index.js';
import { VaultLocked } from '../client/sync/sync-engine.js';

/** Turns any failure into one sentence and an exit code; never a stack trace. */
export function describeFailure(error: unknown, server?: string): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof NotLoggedIn) return { message: error.message, exitCode: EXIT.unauthenticated };
  if (error instanceof WrongSecretWord) return { message: 'the secret word is wrong; nothing was changed', exitCode: EXIT.unauthenticated };
  if (error instanceof VaultLocked) return { message: error.message, exitCode: EXIT.unauthenticated };
  if (error instanceof KeeperCryptoError) return { message: error.message, exitCode: EXIT.failure };
  if (error instanceof DomainError) return { message: error.message, exitCode: error.code === 'record_not_found' ? EXIT.notFound : EXIT.conflict };
  if (error instanceof ZodError) return { message: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), exitCode: EXIT.usage };
  if (isServiceError(error)) {
    const where = server ? ` at ${server}` : '';
    switch (error.code) {
      case status.UNAVAILABLE:
        return { message: `cannot reach the Keeper server${where}: is it running (keeper up)? (${error.details})`, exitCode: EXIT.unavailable };
      case status.DEADLINE_EXCEEDED:
        return { message: `the Keeper server${where} did not answer in time`, exitCode: EXIT.unavailable };
      case status.UNAUTHENTICATED:
        return { message: error.details, exitCode: EXIT.unauthenticated };
      case status.INVALID_ARGUMENT:
        return { message: `the server refused the input: ${error.details}`, exitCode: EXIT.usage };
      case status.NOT_FOUND:
        return { message: error.details, exitCode: EXIT.notFound };
      case status.ALREADY_EXISTS:
      case status.FAILED_PRECONDITION:
      case status.ABORTED:
        return { message: error.details, exitCode: EXIT.conflict };
      case status.RESOURCE_EXHAUSTED:
        return { message: error.details, exitCode: EXIT.throttled };
      default:
        return { message: `the server failed: ${error.details || status[error.code]}`, exitCode: EXIT.failure };
    }
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return { message: `permission denied: ${(error as Error).message}`, exitCode: EXIT.failure };
  if (code === 'EADDRINUSE') return { message: `the address is already in use: ${(error as Error).message}`, exitCode: EXIT.failure };
  return { message: error instanceof Error ? error.message : String(error), exitCode: EXIT.failure };
}
