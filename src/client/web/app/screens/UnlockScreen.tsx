import { useState } from 'preact/hooks';
import { AgentError, agent } from '../../api/agent.js';
import type { Status } from '../../api/schemas.js';
import type { Session } from '../common/session.js';
import { Brand } from './Brand.js';
import { useFocusOnMount } from '../../lib/focus.js';

/**
 * The secret word, asked at every load of an encrypted vault even when the agent holds the key
 * for another window: the word is checked by the agent, and nothing of the vault is on the page
 * until it is right.
 */
export function UnlockScreen({ status, message, session, unlocked }: { status: Status; message?: string | undefined; session: Session; unlocked: (status: Status) => void }) {
  const first = useFocusOnMount<HTMLInputElement>();
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (secret === '') return setError('Type your secret word.');
    setBusy(true);
    try {
      await agent.unlock(secret);
      setSecret('');
      unlocked(await agent.status());
    } catch (failure) {
      setSecret('');
      if (failure instanceof AgentError && (failure.kind === 'session-ended' || failure.kind === 'not-logged-in')) return session.ended();
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="center" id="unlock-screen">
      <Brand />
      <form class="card" onSubmit={submit} aria-labelledby="unlock-title" noValidate>
        <h1 id="unlock-title">Unlock {status.login}'s vault</h1>
        <p>This vault is encrypted: type its secret word. It is checked by your Keeper agent and never leaves this machine.</p>
        {message && !error ? (
          <p class="notice info" role="status">
            {message}
          </p>
        ) : null}
        <label for="secret">Secret word</label>
        <input id="secret" type="password" autoComplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} ref={first} />
        <p class="notice error" role="alert" id="unlock-error">
          {error}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Unlocking…' : 'Unlock'}
        </button>
        <button type="button" class="link" onClick={() => void session.loggedOut()}>
          Log out
        </button>
      </form>
    </main>
  );
}
