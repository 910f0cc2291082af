import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { agent } from '../../api/agent.js';
import type { KindTemplate, RecordKind, RecordView } from '../../api/schemas.js';
import type { VaultActions } from './actions.js';
import { changeOf, fieldsToCreate, formProblem, row, templateRows, type Row } from './form-rows.js';

const KINDS: RecordKind[] = ['login', 'card', 'note', 'custom'];

/**
 * Create or edit a record: the kind's template fields to start with (a new kind swaps them while
 * nothing was typed), fields added, removed and marked sensitive; a sensitive value is typed
 * masked unless shown.
 */
export function RecordForm({ editId, kinds, actions, onSaved, onCancel }: { editId?: string | undefined; kinds: KindTemplate[]; actions: VaultActions; onSaved: (record: RecordView) => void; onCancel: () => void }) {
  const [original, setOriginal] = useState<RecordView | null>(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<RecordKind>('login');
  const [rows, setRows] = useState<Row[]>(() => (editId ? [] : templateRows(kinds, 'login')));
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameBox = useRef<HTMLInputElement>(null);
  const focusRow = useRef<number | null>(null);

  // The name box has the focus before the form is painted: what is typed right after `n` goes in
  // it, not to the page's shortcuts (a test typing at once lost its keystrokes on a busy machine).
  useLayoutEffect(() => {
    if (!editId) nameBox.current?.focus();
  }, [editId]);

  useEffect(() => {
    if (!editId) return;
    agent
      .record(editId, true)
      .then((answer) => {
        const record = answer.record;
        setOriginal(record);
        setName(record.name ?? '');
        setKind(record.kind);
        setRows(record.fields.map((f) => row(f.name, f.value ?? '', f.sensitive)));
      })
      .catch((e: unknown) => actions.fail(e));
  }, [editId]);

  useEffect(() => {
    if (!editId && !touched) setRows(templateRows(kinds, kind));
  }, [kinds]);

  useEffect(() => {
    if (original) nameBox.current?.focus();
  }, [original]);

  useEffect(() => {
    if (focusRow.current === null) return;
    document.getElementById(`field-name-${focusRow.current}`)?.focus();
    focusRow.current = null;
  });

  const update = (key: number, change: Partial<Row>) => {
    setTouched(true);
    setRows((before) => before.map((r) => (r.key === key ? { ...r, ...change } : r)));
  };

  const chooseKind = (next: RecordKind) => {
    setKind(next);
    if (!editId && !touched) setRows(templateRows(kinds, next));
  };

  const save = async (event: Event) => {
    event.preventDefault();
    const problem = formProblem(name, rows);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      if (!editId) {
        const answer = await agent.create({ kind, name: name.trim(), fields: fieldsToCreate(rows) });
        actions.noteSync(answer.sync);
        actions.say(answer.sync.stale ? `Saved "${answer.record.name}" here; it is sent to the server when it can be reached.` : `Saved "${answer.record.name}".`);
        onSaved(answer.record);
      } else if (original) {
        const change = changeOf(original, name, kind, rows);
        if (Object.keys(change).length === 0) {
          actions.say('Nothing changed.');
          onSaved(original);
          return;
        }
        const answer = await agent.change(editId, change);
        actions.noteSync(answer.sync);
        actions.say(answer.sync.stale ? `Saved the changes to "${answer.record.name}" here; they are sent to the server when it can be reached.` : `Saved the changes to "${answer.record.name}".`);
        onSaved(answer.record);
      }
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      actions.fail(failure);
    } finally {
      setBusy(false);
    }
  };

  const title = editId ? `Edit ${original?.name ?? 'record'}` : 'New record';
  // An edit shows its boxes only once they hold the record: nothing typed before can be overwritten.
  if (editId && !original) {
    return (
      <section class="record-form" aria-labelledby="form-title">
        <h2 id="form-title">{title}</h2>
        <p>Opening the record…</p>
      </section>
    );
  }
  return (
    <form class="record-form" onSubmit={save} aria-labelledby="form-title" noValidate>
      <h2 id="form-title">{title}</h2>
      <div class="form-line">
        <label for="record-name">Name</label>
        <input id="record-name" ref={nameBox} value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} required />
      </div>
      <div class="form-line">
        <label for="record-kind">Kind</label>
        <select id="record-kind" value={kind} onChange={(e) => chooseKind(e.currentTarget.value as RecordKind)}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      <fieldset class="form-fields">
        <legend>Fields</legend>
        {!editId ? <p class="hint">Fields left empty are not saved.</p> : null}
        {rows.map((r, index) => {
          const label = r.name.trim() || `field ${index + 1}`;
          const multiline = !r.sensitive && (r.name === 'text' || r.value.includes('\n'));
          return (
            <div class="form-field" key={r.key} data-field-row={index}>
              <div class="form-cell">
                <label for={`field-name-${r.key}`}>Name of field {index + 1}</label>
                <input id={`field-name-${r.key}`} value={r.name} maxLength={100} onInput={(e) => update(r.key, { name: e.currentTarget.value })} />
              </div>
              <div class="form-cell grow">
                <label for={`field-value-${r.key}`}>Value of {label}</label>
                {multiline ? (
                  <textarea id={`field-value-${r.key}`} rows={3} value={r.value} onInput={(e) => update(r.key, { value: e.currentTarget.value })} />
                ) : (
                  <input
                    id={`field-value-${r.key}`}
                    type={(r.sensitive && !r.show ? 'password' : 'text') as 'text'}
                    autoComplete="off"
                    value={r.value}
                    onInput={(e) => update(r.key, { value: e.currentTarget.value })}
                  />
                )}
              </div>
              <div class="form-cell toggles">
                <label class="check">
                  <input type="checkbox" checked={r.sensitive} onChange={(e) => update(r.key, { sensitive: e.currentTarget.checked })} /> Sensitive
                </label>
                {r.sensitive ? (
                  <button type="button" class="small" aria-label={`${r.show ? 'Mask' : 'Show'} the value of ${label}`} onClick={() => update(r.key, { show: !r.show })}>
                    {r.show ? 'Mask' : 'Show'}
                  </button>
                ) : null}
                <button type="button" class="small" aria-label={`Remove ${label}`} onClick={() => (setTouched(true), setRows((before) => before.filter((x) => x.key !== r.key)))}>
                  Remove
                </button>
              </div>
            </div>
          );
        })}
        <button
          type="button"
          onClick={() => {
            const added = row();
            focusRow.current = added.key;
            setTouched(true);
            setRows((before) => [...before, added]);
          }}
        >
          Add a field
        </button>
      </fieldset>
      <p class="notice error" role="alert" id="form-error">
        {error}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || (editId !== undefined && original === null)}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
