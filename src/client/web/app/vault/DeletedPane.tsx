import { useEffect, useRef, useState } from 'preact/hooks';
import { agent } from '../../api/agent.js';
import type { RecordSummary } from '../../api/schemas.js';
import { formatWhen, shownName } from '../../lib/format.js';
import type { VaultActions } from './actions.js';

/** Deleted records, each brought back as it was just before it was deleted. */
export function DeletedPane({ revision, actions, onBack }: { revision: number; actions: VaultActions; onBack: () => void }) {
  const [records, setRecords] = useState<RecordSummary[] | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    agent
      .deleted()
      .then((answer) => setRecords(answer.records))
      .catch((e: unknown) => actions.fail(e));
  }, [revision]);

  const restore = async (record: RecordSummary) => {
    try {
      const { versions } = await agent.history(record.id);
      const before = [...versions].reverse().find((v) => v.type !== 'RecordDeleted');
      if (!before) return actions.say(`"${shownName(record.name)}" has no version to bring back.`, 'error');
      const answer = await agent.restore(record.id, before.version);
      actions.noteSync(answer.sync);
      actions.say(`Restored "${shownName(answer.record.name)}".`);
      actions.changed();
      actions.openRecord(record.id);
    } catch (error) {
      actions.fail(error);
    }
  };

  return (
    <section class="deleted" aria-labelledby="deleted-title">
      <button type="button" class="back" onClick={onBack}>
        Back
      </button>
      <h2 id="deleted-title" tabIndex={-1} ref={heading}>
        Deleted records
      </h2>
      {records === null ? <p>Reading…</p> : records.length === 0 ? <p>No deleted records.</p> : null}
      <ul class="deleted-list">
        {records?.map((record) => (
          <li key={record.id}>
            <span class="record-name">{shownName(record.name)}</span> <span class="record-kind">{record.kind}</span> <span class="record-when">deleted {formatWhen(record.updatedAt)}</span>{' '}
            <button type="button" class="small" aria-label={`Restore ${shownName(record.name)}`} onClick={() => void restore(record)}>
              Restore
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
