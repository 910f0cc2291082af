import type { Status } from '../../api/schemas.js';
import type { Session } from '../common/session.js';
import { Brand } from './Brand.js';
import { useFocusOnMount } from '../../lib/focus.js';

/** A vault without encryption has no word to ask for after the idle lock: the screen is simply cleared until the user comes back. */
export function IdleScreen({ status, message, session, resume }: { status: Status; message: string; session: Session; resume: () => void }) {
  const first = useFocusOnMount<HTMLButtonElement>();
  return (
    <main class="center" id="idle-screen">
      <Brand />
      <section class="card" aria-labelledby="idle-title">
        <h1 id="idle-title">{status.login}'s vault is locked</h1>
        <p role="status">{message}</p>
        <button type="button" class="primary" ref={first} onClick={resume}>
          Go on
        </button>
        <button type="button" class="link" onClick={() => void session.loggedOut()}>
          Log out
        </button>
      </section>
    </main>
  );
}
