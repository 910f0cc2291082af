import { failureOf } from '../core/failures.js';

/** What went wrong, in the TUI's words: the errors it acts on and the sentences it shows. */

/** The user left a prompt with Esc: the app quits. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled by the user');
    this.name = 'Cancelled';
  }
}

export const WRONG_SECRET = 'the secret word is wrong; try again';

/** An error as one sentence for the message line, about the server the account is on. */
export function describe(error: unknown, server: string): string {
  const failure = failureOf(error, server);
  switch (failure.kind) {
    case 'wrong-secret':
      return 'the secret word is wrong';
    // gRPC's own words for a dead connection run longer than the message line.
    case 'unavailable':
      return `the Keeper server at ${server} is unavailable for a moment; try again shortly`;
    case 'offline':
      return `cannot reach the Keeper server at ${server}: is it running?`;
    case 'not-logged-in':
      return 'not logged in: log in first';
    default:
      return failure.message;
  }
}

/** What the status line says when a sync could not reach the server; the sync loop tries again by itself. */
export function offlineNotice(error: unknown, server: string): string {
  if (failureOf(error).kind === 'unavailable') return `server unavailable for a moment (${server}), retrying; changes stay here and are pushed when it is back`;
  return `offline: cannot reach ${server}; changes stay here and are pushed when it is back`;
}

/** Why the connect screen is back, the part that matters first (the message line may cut the end). */
export function loginAgain(error: unknown): string {
  const failure = failureOf(error);
  return failure.kind === 'session-ended' ? `session ended: log in again (${failure.detail.why ?? failure.message})` : 'not logged in: log in first';
}
