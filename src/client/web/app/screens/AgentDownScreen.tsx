import { useEffect } from 'preact/hooks';
import { AGENT_DOWN } from '../../api/agent.js';
import { Brand } from './Brand.js';

/** The agent does not answer at all: say so, and try again every few seconds. */
export function AgentDownScreen({ retry }: { retry: () => void }) {
  useEffect(() => {
    const timer = window.setInterval(retry, 3_000);
    return () => window.clearInterval(timer);
  }, [retry]);
  return (
    <main class="center" id="down-screen">
      <Brand />
      <section class="card" aria-labelledby="down-title">
        <h1 id="down-title">Keeper's agent is not answering</h1>
        <p role="alert">{AGENT_DOWN}</p>
        <button type="button" class="primary" onClick={retry}>
          Try now
        </button>
      </section>
    </main>
  );
}
