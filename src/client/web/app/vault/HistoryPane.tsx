import { useEffect, useRef, useState } from 'preact/hooks';
import { agent } from '../../api/agent.js';
import type { HistoryVersion } from '../../api/schemas.js';
import { formatWhen, shownName } from '../../lib/format.js';
import type { VaultActions } from './actions.js';

const WHAT: Record<string, string> = { RecordCreated: 'created', RecordUpdated: 'changed', RecordDeleted: 'deleted', RecordRestored: 'restored' };

/** A record's versions from the server's log, newest first, each one restorable. */
export function HistoryPane({ id, revision, actions, onBack }: { id: string; revision: number; actions: VaultActions; onBack: () => void }) {
  const [versions, setVersions] = useState<HistoryVersion[] | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id]);
  useEffect(() => {
    agent
      .history(id)
      .then((answer) => setVersions([...answer.versions].reverse()))
      .catch((e: unknown) => actions.fail(e));
  }, [id, revision]);

  const restore = async (version: HistoryVersion) => {
    try {
      const answer = await agent.restore(id, version.version);
      actions.noteSync(answer.sync);
      actions.say(`Restored "${shownName(answer.record.name)}" as it was at version ${version.version}.`);
      actions.changed();
      actions.openRecord(id);
    } catch (error) {
      actions.fail(error);
    }
  };

  const latest = versions?.[0];
  return (
    <section class="history" aria-labelledby="history-title">
      <button type="button" class="back" onClick={onBack}>
        Back
      </button>
      <h2 id="history-title" tabIndex={-1} ref={heading}>
        History{latest ? ` of ${shownName(latest.record.name)}` : ''}
      </h2>
      {versions === null ? <p>Reading the log…</p> : null}
      <ol class="versions">
        {versions?.map((v) => (
          <li key={v.version} class="version">
            <h3>
              Version {v.version} · {WHAT[v.type] ?? v.type} · {formatWhen(v.at)}
            </h3>
            <p>
              {shownName(v.record.name)} ({v.record.kind})
            </p>
            <dl class="fields compact">
              {v.record.fields.map((f) => (
                <div class="field" key={f.name}>
                  <dt>{f.name}</dt>
                  <dd>{f.hidden === 'masked' ? '••••••••' : f.hidden === 'locked' ? '(locked)' : f.value}</dd>
                </div>
              ))}
            </dl>
            {v !== latest && v.type !== 'RecordDeleted' ? (
              <button type="button" onClick={() => void restore(v)}>
                Restore version {v.version}
              </button>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
