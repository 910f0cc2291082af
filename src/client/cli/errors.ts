import { ConfigError, ServiceUnreachable } from '../../config/env.js';
import { failureOf, type FailureKind, type KeeperFailure } from '../core/failures.js';
import { CliError, EXIT } from './exit-codes.js';

/** Turns any failure into one sentence and an exit code (README's table); never a stack trace. */
export function describeFailure(error: unknown, server?: string): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof ServiceUnreachable) return { message: error.message, exitCode: EXIT.unavailable };
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE') return { message: `the address is already in use: ${(error as Error).message}`, exitCode: EXIT.failure };
  const failure = failureOf(error, server);
  return { message: sentence(failure), exitCode: KIND_EXIT[failure.kind] };
}

/** The core's sentence, with what to type next where the CLI has a command for it. */
function sentence(failure: KeeperFailure): string {
  switch (failure.kind) {
    case 'not-logged-in':
      return `${failure.message}: run \`keeper login\` first`;
    case 'session-ended':
      return `${failure.message}: run \`keeper login\` again`;
    case 'offline':
      return failure.message.startsWith('cannot reach') ? `${failure.message}: is it running (keeper up)?` : failure.message;
    case 'unavailable':
      return `${failure.message}, try again shortly`;
    default:
      return failure.message;
  }
}

const KIND_EXIT: Record<FailureKind, number> = {
  'not-logged-in': EXIT.unauthenticated,
  'session-ended': EXIT.unauthenticated,
  locked: EXIT.unauthenticated,
  'wrong-secret': EXIT.unauthenticated,
  refused: EXIT.unauthenticated,
  'not-found': EXIT.notFound,
  ambiguous: EXIT.usage,
  invalid: EXIT.usage,
  conflict: EXIT.conflict,
  offline: EXIT.unavailable,
  unavailable: EXIT.unavailable,
  throttled: EXIT.throttled,
  'too-large': EXIT.tooLarge,
  damaged: EXIT.failure,
  failed: EXIT.failure,
};
