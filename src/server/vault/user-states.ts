import { toVaultEvent } from '../../domain/events.js';
import { VaultState, streamIdForUser } from '../../domain/vault-state.js';
import type { EventStore } from '../eventstore/port.js';

const PAGE = 2000;

/**
 * The server's in-memory vault states for deciding pushes, caught up from the store before use
 * (another replica may have appended) and evicted least-recently-used. Work for one user is
 * serialised here, so a cached state is never folded by two calls at once.
 *
 * A caller that will append at an expected version may pass it as `assumeCurrentAt`: a cached
 * state already at that version is then used without reading the stream. If another replica
 * appended meanwhile, the append's expected-version check refuses it, so a stale state can only
 * cost a conflict, never a wrong event; the next call at a newer version catches up.
 */
export class UserStates {
  private readonly states = new Map<string, VaultState>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: EventStore,
    private readonly capacity = 1000,
  ) {}

  /** Runs `fn` with the user's state caught up to the stream, one call per user at a time. */
  async withState<T>(userId: string, fn: (state: VaultState) => Promise<T>, options: { assumeCurrentAt?: number } = {}): Promise<T> {
    const previous = this.locks.get(userId) ?? Promise.resolve();
    const run = previous.then(async () => {
      const state = await this.caughtUp(userId, options.assumeCurrentAt);
      try {
        return await fn(state);
      } catch (error) {
        // The state may be half-updated; rebuild it on next use rather than trust it.
        this.states.delete(userId);
        throw error;
      }
    });
    const settled = run.catch(() => undefined);
    this.locks.set(userId, settled);
    void settled.then(() => {
      if (this.locks.get(userId) === settled) this.locks.delete(userId);
    });
    return run;
  }

  private async caughtUp(userId: string, assumeCurrentAt: number | undefined): Promise<VaultState> {
    let state = this.states.get(userId);
    if (state) this.states.delete(userId);
    const cached = state !== undefined;
    state ??= new VaultState();
    this.states.set(userId, state);
    this.evict();
    if (cached && assumeCurrentAt !== undefined && state.version === assumeCurrentAt) return state;
    const stream = streamIdForUser(userId);
    for (;;) {
      const events = await this.store.readStream(stream, state.version + 1, PAGE);
      for (const event of events) state.apply(toVaultEvent(event));
      if (events.length < PAGE) return state;
    }
  }

  private evict(): void {
    while (this.states.size > this.capacity) {
      const oldest = this.states.keys().next().value as string;
      this.states.delete(oldest);
    }
  }
}
