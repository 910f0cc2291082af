import { describeFailure } from '../../cli/errors.js';
import { WrongSecretWord } from '../crypto/index.js';
import type { NotLoggedIn } from '../keeper-client.js';
import { isUnreachable } from './session.js';
import { isServerBusy } from '../retry.js';

/** What went wrong, in the TUI's words: the errors it acts on and the sentences it shows. */

/** The user left a prompt with Esc: the app quits. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled by the user');
    this.name = 'Cancelled';
  }
}

export const WRONG_SECRET = 'the secret word is wrong; try again';

/** An error as one sentence for the message line, about the server the session talks to. */
export function describe(error: unknown, server: string): string {
  if (error instanceof WrongSecretWord) return 'the secret word is wrong';
  // gRPC's own words for a dead connection run longer than the message line.
  if (isServerBusy(error)) return `the Keeper server at ${server} is unavailable for a moment; try again shortly`;
  if (isUnreachable(error)) return `cannot reach the Keeper server at ${server}: is it running?`;
  return describeFailure(error, server).message;
}

/** What the status line says when a sync could not reach the server; the sync loop tries again by itself. */
export function offlineNotice(error: unknown, server: string): string {
  if (isServerBusy(error)) return `server unavailable for a moment (${server}), retrying; changes stay here and are pushed when it is back`;
  return `offline: cannot reach ${server}; changes stay here and are pushed when it is back`;
}

/**
 * The core's "session ended (why): run `keeper login` again" as said on the connect screen, the
 * part that matters first (the message line may cut the end).
 */
export function loginAgain(error: NotLoggedIn): string {
  const ended = /^session ended \((.*)\)/.exec(error.message);
  return ended ? `session ended: log in again (${ended[1]})` : 'not logged in: log in first';
}
