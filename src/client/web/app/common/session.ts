import type { Status } from '../../api/schemas.js';

/** What a screen tells the app when it learns the session or the lock changed. */
export interface Session {
  /** The agent refused the session (ended, logged out elsewhere): back to logging in. */
  ended(message?: string): void;
  /** The vault was locked (here, in another window, by the agent's idle clock). */
  locked(status: Status, message: string): void;
  loggedOut(): Promise<void>;
}
