import type { Status } from '../../api/schemas.js';
import { formatTime } from '../../lib/format.js';

/** Online or not, the version, what waits to be sent, the last sync and the lock state: kept current by the agent's events. */
export function StatusBar({ status, agentDown }: { status: Status; agentDown: boolean }) {
  const { sync } = status;
  const state = agentDown ? 'agent not answering' : sync.stale ? 'offline' : 'online';
  const lock = status.encrypted ? (status.unlocked ? 'unlocked' : 'locked') : 'not encrypted';
  return (
    <footer class="status-bar" id="sync-status" data-state={state}>
      <span class={`dot ${agentDown || sync.stale ? 'off' : 'on'}`} aria-hidden="true">
        ●
      </span>{' '}
      <span id="sync-state">{state}</span> · <span id="sync-version">version {sync.version}</span> · <span id="sync-pending">{sync.pending} waiting</span> ·{' '}
      <span id="sync-last">{sync.lastSyncAt ? `synced ${formatTime(sync.lastSyncAt)}` : 'not synced yet'}</span> · <span id="lock-state">{lock}</span>
      {sync.stale && sync.problem ? <span class="problem"> · {sync.problem}</span> : null}
    </footer>
  );
}
