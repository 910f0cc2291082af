import { expect } from 'chai';
import { SearchIndex } from '../../src/client/search/index.js';
import type { OpenedRecord } from '../../src/client/sync/record-crypto.js';
import { key, type Key } from '../../src/client/tui/kit/keys.js';
import { stripTags } from '../../src/client/tui/kit/text.js';
import { detailLines, listLine, listModel, type SearchFn } from '../../src/client/tui/kit/view-model.js';
import { editRecordForm, formKey, formLines, formOutcome, newRecordForm, tagsRow, type FormState } from '../../src/client/tui/screens/record-form.js';

/** The TUI's everyday tools as pure functions: tags and the star in the form and the list, one-time-code fields. */

const SPECIAL = ['enter', 'tab', 'escape', 'up', 'down', 'left', 'right', 'backspace', 'delete', 'home', 'end', 'space', 'f2'];

function typeForm(state: FormState, ...keys: string[]): FormState {
  let current = state;
  for (const name of keys) {
    const presses: Key[] = name.length > 1 && !name.includes('-') && !SPECIAL.includes(name) ? Array.from(name).map(key) : [key(name)];
    for (const press of presses) current = formKey(current, press).state;
  }
  return current;
}

function record(id: string, name: string, extra: Partial<OpenedRecord> = {}): OpenedRecord {
  return { id, kind: 'login', name, fields: [], tags: [], favourite: false, createdAt: 1, updatedAt: 1, version: 1, sealed: false, unreadable: [], ...extra };
}

function searchOver(records: OpenedRecord[]): SearchFn {
  const index = SearchIndex.build(records);
  const byId = new Map(records.map((r) => [r.id, r]));
  return (query, options) => {
    const result = index.search(query, options);
    return { total: result.total, hits: result.hits.map((hit) => ({ ...hit, record: byId.get(hit.id)! })) };
  };
}

describe('TUI: tags, favourites and one-time-code fields', () => {
  it('the form takes tags on the row after the fields, a star with C-f, and a one-time-code field with C-o', () => {
    let form = typeForm(newRecordForm('note'), 'Mail');
    // Down past the name, the kind and the one template field lands on the tags.
    form = typeForm(form, 'down', 'down', 'down');
    expect(form.row).to.equal(tagsRow(form));
    form = typeForm(form, 'work, Home ,work', 'C-f');
    // A new field, turned into a one-time code: it becomes sensitive and says what it is.
    form = typeForm(form, 'C-n', 'otp', 'tab', 'jbsw y3dp ehpk 3pxp', 'C-o');
    expect(form.fields.at(-1)).to.deep.include({ kind: 'totp', sensitive: true });
    const lines = formLines(form, 80).lines.map(stripTags);
    expect(lines[0]).to.match(/Name\s+Mail.*\*$/);
    expect(lines.some((l) => /otp\s+\S+.*one-time/.test(l))).to.equal(true);
    expect(lines.some((l) => /Tags\s+work, Home ,work/.test(l))).to.equal(true);
    // C-t cannot make a one-time-code secret plain.
    form = typeForm(form, 'C-t');
    expect(form.fields.at(-1)!.sensitive).to.equal(true);
    const outcome = formOutcome(form);
    expect(outcome).to.deep.include({ ok: true, kind: 'create' });
    if (!outcome.ok || outcome.kind !== 'create') throw new Error('not a create');
    expect(outcome.record.tags).to.deep.equal(['work', 'Home']);
    expect(outcome.record.favourite).to.equal(true);
    expect(outcome.record.fields.at(-1)).to.deep.equal({ name: 'otp', value: 'JBSWY3DPEHPK3PXP', sensitive: true, kind: 'totp' });
  });

  it('an edit sends tags and the star only when they changed', () => {
    const opened = record('00000000-0000-4000-8000-000000000001', 'Mail', { tags: ['work', 'mail'], favourite: true });
    expect(formOutcome(editRecordForm(opened))).to.deep.include({ unchanged: true });
    let form = editRecordForm(opened);
    form = typeForm(form, 'down', 'down', 'end', ', new', 'C-f');
    const outcome = formOutcome(form);
    if (!outcome.ok || outcome.kind !== 'update') throw new Error('not an update');
    expect(outcome.changes).to.deep.equal({ setFields: [], removeFields: [], tags: ['work', 'mail', 'new'], favourite: false });
  });

  it('the list keeps starred records first, marks them, and narrows to #tag words and * for starred ones', () => {
    const vault = [
      record('00000000-0000-4000-8000-000000000001', 'Alpha', { tags: ['work'] }),
      record('00000000-0000-4000-8000-000000000002', 'Bravo', { favourite: true, tags: ['home', 'Work'] }),
      record('00000000-0000-4000-8000-000000000003', 'Charlie', { tags: ['home'] }),
    ];
    const search = searchOver(vault);
    expect(listModel(search, '').rows.map((r) => r.name)).to.deep.equal(['Bravo', 'Alpha', 'Charlie']);
    expect(listLine(listModel(search, '').rows[0]!, 40, 1)).to.match(/^\*Bravo/);
    expect(listModel(search, '#WORK').rows.map((r) => r.name)).to.deep.equal(['Bravo', 'Alpha']);
    expect(listModel(search, '#work #home').rows.map((r) => r.name)).to.deep.equal(['Bravo']);
    expect(listModel(search, '*').rows.map((r) => r.name)).to.deep.equal(['Bravo']);
    const narrowed = listModel(search, 'ar #home');
    expect(narrowed.rows.map((r) => r.name)).to.deep.equal(['Charlie']);
    expect(narrowed).to.include({ matches: 1, all: 3 });
  });

  it('the open record shows its star and tags', () => {
    const lines = detailLines(record('00000000-0000-4000-8000-000000000001', 'Mail', { favourite: true, tags: ['work', 'home'] }), { revealed: false, width: 60 }).map((l) => stripTags(l.text));
    expect(lines).to.include('* favourite  tags: #work #home');
  });
});
