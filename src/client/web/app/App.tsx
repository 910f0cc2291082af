import { useCallback, useEffect, useState } from 'preact/hooks';
import { AgentDown, AgentError, agent } from '../api/agent.js';
import type { Status } from '../api/schemas.js';
import { emptyClipboard } from '../lib/clipboard.js';
import { LoginScreen } from './screens/LoginScreen.js';
import { UnlockScreen } from './screens/UnlockScreen.js';
import { IdleScreen } from './screens/IdleScreen.js';
import { AgentDownScreen } from './screens/AgentDownScreen.js';
import { VaultScreen } from './vault/VaultScreen.js';
import type { Session } from './common/session.js';

export type Screen =
  | { name: 'starting' }
  | { name: 'down' }
  | { name: 'login'; message?: string | undefined }
  | { name: 'unlock'; status: Status; message?: string | undefined }
  | { name: 'idle'; status: Status; message: string }
  | { name: 'vault'; status: Status };

/**
 * The page's screens: logging in, the secret word (asked at every load of an encrypted vault,
 * whatever the agent holds), the vault. Nothing of the vault is fetched before it is unlocked here.
 */
export function App() {
  const [screen, setScreen] = useState<Screen>({ name: 'starting' });

  const start = useCallback(async (message?: string) => {
    try {
      const status = await agent.status();
      setScreen(status.encrypted ? { name: 'unlock', status, message } : { name: 'vault', status });
    } catch (error) {
      if (error instanceof AgentDown) setScreen({ name: 'down' });
      else if (error instanceof AgentError && (error.kind === 'not-logged-in' || error.kind === 'session-ended')) setScreen({ name: 'login', message });
      else setScreen({ name: 'login', message: error instanceof Error ? error.message : String(error) });
    }
  }, []);

  useEffect(() => {
    void start();
  }, [start]);

  const session: Session = {
    ended: (message = 'Your session has ended; log in again.') => {
      void emptyClipboard();
      setScreen({ name: 'login', message });
    },
    locked: (status, message) => {
      void emptyClipboard();
      setScreen(status.encrypted ? { name: 'unlock', status, message } : { name: 'idle', status, message });
    },
    loggedOut: async () => {
      await emptyClipboard();
      try {
        await agent.logout();
      } catch (error) {
        if (!(error instanceof AgentError)) throw error;
      }
      setScreen({ name: 'login', message: 'You are logged out.' });
    },
  };

  switch (screen.name) {
    case 'starting':
      return <p class="boot">Keeper is starting…</p>;
    case 'down':
      return <AgentDownScreen retry={() => start()} />;
    case 'login':
      return <LoginScreen message={screen.message} entered={() => start()} />;
    case 'unlock':
      return <UnlockScreen status={screen.status} message={screen.message} session={session} unlocked={(status) => setScreen({ name: 'vault', status })} />;
    case 'idle':
      return <IdleScreen status={screen.status} message={screen.message} session={session} resume={() => start()} />;
    case 'vault':
      return <VaultScreen initialStatus={screen.status} session={session} />;
  }
}
