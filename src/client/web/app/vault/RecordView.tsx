import { useEffect, useRef, useState } from 'preact/hooks';
import { AgentError, agent, isAbort } from '../../api/agent.js';
import type { RecordView as Record } from '../../api/schemas.js';
import { copyForAWhile } from '../../lib/clipboard.js';
import { formatWhen, shownName } from '../../lib/format.js';
import type { VaultActions } from './actions.js';
import { ImagesSection } from './ImagesSection.js';

const MASK = '••••••••';

/**
 * One record: sensitive values masked until revealed (all with r, or one by one), each value
 * copied with a button (the clipboard emptied 30 s later), its pictures below.
 */
export function RecordView({
  id,
  revision,
  revealAll,
  attachRequest,
  actions,
  onLoaded,
  onEdit,
  onDelete,
  onHistory,
  onBack,
}: {
  id: string;
  revision: number;
  revealAll: boolean;
  attachRequest: number;
  actions: VaultActions;
  onLoaded: (record: Record | null) => void;
  onEdit: () => void;
  onDelete: () => void;
  onHistory: () => void;
  onBack: () => void;
}) {
  const [record, setRecord] = useState<Record | null>(null);
  const [gone, setGone] = useState(false);
  const [shown, setShown] = useState<ReadonlySet<string>>(new Set());
  const [values, setValues] = useState<ReadonlyMap<string, string | null> | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setShown(new Set());
    setValues(null);
    setGone(false);
    setRecord(null);
    heading.current?.focus();
  }, [id]);

  useEffect(() => {
    const controller = new AbortController();
    agent
      .record(id, false, controller.signal)
      .then((answer) => {
        setRecord(answer.record);
        setGone(false);
        onLoaded(answer.record);
        actions.noteSync(answer.sync);
      })
      .catch((error: unknown) => {
        if (isAbort(error)) return;
        if (error instanceof AgentError && error.kind === 'not-found') {
          setGone(true);
          setRecord(null);
          onLoaded(null);
        } else actions.fail(error);
      });
    return () => controller.abort();
  }, [id, revision]);

  const wantsValues = revealAll || shown.size > 0;
  useEffect(() => {
    if (!wantsValues) {
      setValues(null);
      return;
    }
    const controller = new AbortController();
    agent
      .record(id, true, controller.signal)
      .then((answer) => setValues(new Map(answer.record.fields.map((f) => [f.name, f.value]))))
      .catch((error: unknown) => isAbort(error) || actions.fail(error));
    return () => controller.abort();
  }, [id, revision, wantsValues]);

  if (gone) {
    return (
      <section class="record" aria-labelledby="record-title">
        <h2 id="record-title" tabIndex={-1} ref={heading}>
          Record not found
        </h2>
        <p role="alert">This record was deleted, here or on another device. Deleted records (u) can bring it back.</p>
        <button type="button" class="back" onClick={onBack}>
          Back to the list
        </button>
      </section>
    );
  }

  const copy = async (name: string) => {
    try {
      const known = record?.fields.find((f) => f.name === name)?.value ?? values?.get(name) ?? null;
      const value = known ?? (await agent.record(id, true)).record.fields.find((f) => f.name === name)?.value ?? null;
      if (value === null) return actions.say(`The value of "${name}" cannot be read while the vault is locked.`, 'error');
      await copyForAWhile(value, (sentence, ok) => actions.say(sentence, ok ? 'info' : 'error'));
      actions.say(`Copied the value of "${name}". The clipboard is emptied in 30 seconds, where the browser allows it.`);
    } catch (error) {
      actions.fail(error);
    }
  };

  const toggle = (name: string) =>
    setShown((before) => {
      const next = new Set(before);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  return (
    <section class="record" aria-labelledby="record-title">
      <button type="button" class="back" onClick={onBack}>
        Back to the list
      </button>
      <h2 id="record-title" tabIndex={-1} ref={heading}>
        {record ? shownName(record.name) : 'Opening…'}
      </h2>
      {record ? (
        <>
          <p class="meta">
            {record.kind} · version {record.version} · changed {formatWhen(record.updatedAt)}
            {record.sealed ? ' · encrypted' : ''}
          </p>
          {record.conflictOf ? (
            <p class="conflict-note">
              This is a conflict copy: it keeps a change made here while the same record was changed elsewhere, and the other change won.{' '}
              <button type="button" class="link" onClick={() => actions.openRecord(record.conflictOf!)}>
                Open the record it copies
              </button>
            </p>
          ) : null}
          <div class="actions">
            <button type="button" onClick={onEdit} aria-keyshortcuts="e">
              Edit
            </button>
            <button type="button" onClick={onDelete} aria-keyshortcuts="d">
              Delete
            </button>
            <button type="button" onClick={onHistory} aria-keyshortcuts="h">
              History
            </button>
          </div>
          {record.fields.length === 0 ? <p>No fields.</p> : null}
          <dl class="fields">
            {record.fields.map((field) => {
              const open = revealAll || shown.has(field.name);
              const value = field.hidden === 'locked' ? '(locked)' : field.hidden === 'masked' ? (open && values ? (values.get(field.name) ?? '(locked)') : MASK) : (field.value ?? '');
              return (
                <div class="field" key={field.name}>
                  <dt>
                    {field.name}
                    {field.sensitive ? <span class="tag">sensitive</span> : null}
                  </dt>
                  <dd>
                    <span class={`value${field.hidden === 'masked' && !open ? ' masked' : ''}`} data-field={field.name}>
                      {value}
                    </span>
                    <span class="field-actions">
                      {field.sensitive && field.hidden !== 'locked' ? (
                        <button type="button" class="small" aria-label={`${open ? 'Hide' : 'Reveal'} ${field.name}`} onClick={() => toggle(field.name)}>
                          {open ? 'Hide' : 'Reveal'}
                        </button>
                      ) : null}
                      {field.hidden !== 'locked' ? (
                        <button type="button" class="small" aria-label={`Copy ${field.name}`} onClick={() => void copy(field.name)}>
                          Copy
                        </button>
                      ) : null}
                    </span>
                  </dd>
                </div>
              );
            })}
          </dl>
          <ImagesSection recordId={record.id} revision={revision} attachRequest={attachRequest} actions={actions} />
        </>
      ) : null}
    </section>
  );
}
