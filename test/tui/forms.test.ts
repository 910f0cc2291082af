import { expect } from 'chai';
import type { OpenedRecord } from '../../src/client/sync/record-crypto.js';
import { key, keyFromBlessed, type Key } from '../../src/client/tui/kit/keys.js';
import { drawLine, editLine, line, type LineState } from '../../src/client/tui/kit/line-editor.js';
import { loginForm, loginKey, loginOutcome, secretKey, secretLines, secretPrompt, type LoginState } from '../../src/client/tui/screens/login.js';
import { editRecordForm, formKey, formLines, formOutcome, newRecordForm, type FormState } from '../../src/client/tui/screens/record-form.js';
import { historyKey, historyState } from '../../src/client/tui/screens/history.js';
import { secretWordForm, secretWordKey, secretWordLines, secretWordOutcome } from '../../src/client/tui/screens/secret-word.js';
import { stripTags } from '../../src/client/tui/kit/text.js';
import type { RecordVersion } from '../../src/client/sync/history.js';

/** The TUI's input handling as pure state machines: text boxes, the record form, log in, unlock, history. */

function type<S>(state: S, step: (s: S, k: Key) => { state: S } | S | undefined, ...keys: string[]): S {
  let current = state;
  for (const name of keys) {
    const presses = name.length > 1 && !name.includes('-') && !['enter', 'tab', 'escape', 'up', 'down', 'left', 'right', 'backspace', 'delete', 'home', 'end', 'space', 'f2'].includes(name) ? Array.from(name).map(key) : [key(name)];
    for (const press of presses) {
      const out = step(current, press);
      if (out === undefined) continue;
      current = typeof out === 'object' && out !== null && 'state' in (out as object) ? (out as { state: S }).state : (out as S);
    }
  }
  return current;
}

const typeLine = (state: LineState, ...keys: string[]) => type(state, (s, k) => editLine(s, k) ?? s, ...keys);
const typeForm = (state: FormState, ...keys: string[]) => type(state, formKey, ...keys);
const typeLogin = (state: LoginState, ...keys: string[]) => type(state, loginKey, ...keys);

describe('TUI input', () => {
  describe('a text box', () => {
    it('types, moves, deletes and clears', () => {
      expect(typeLine(line(), 'hello').text).to.equal('hello');
      expect(typeLine(line('hello'), 'left', 'left', 'X')).to.deep.equal({ text: 'helXlo', cursor: 4 });
      expect(typeLine(line('hello'), 'home', 'delete', 'end', 'backspace').text).to.equal('ell');
      expect(typeLine(line('one two'), 'C-w').text).to.equal('one ');
      expect(typeLine(line('one two'), 'C-u')).to.deep.equal({ text: '', cursor: 0 });
      expect(typeLine(line('ab'), 'é', '漢').text).to.equal('abé漢');
      expect(editLine(line('x'), key('enter'))).to.equal(undefined);
    });

    it('draws the cursor, scrolls to it, and masks secrets one star per character', () => {
      expect(drawLine(line('abc'), 6, { focused: true })).to.equal('abc{inverse} {/inverse}  ');
      expect(drawLine({ text: 'abc', cursor: 1 }, 6, { focused: false })).to.equal('abc   ');
      expect(stripTags(drawLine(line('abcdefghij'), 5, { focused: true }))).to.equal('ghij ');
      expect(drawLine(line('pw1'), 5, { focused: false, secret: true })).to.equal('***  ');
      expect(drawLine(line('{x}'), 5, { focused: false })).to.equal('{open}x{close}  ');
    });
  });

  describe('keys from blessed', () => {
    it('keeps one Enter, names printable keys by their character, and keeps control keys', () => {
      expect(keyFromBlessed('\r', { name: 'return', full: 'return' })).to.equal(undefined);
      expect(keyFromBlessed('\r', { name: 'enter', full: 'enter' })!.full).to.equal('enter');
      expect(keyFromBlessed('L', { name: 'l', full: 'S-l', shift: true })!.full).to.equal('L');
      expect(keyFromBlessed('?', undefined)!.full).to.equal('?');
      expect(keyFromBlessed('\u0013', { name: 's', full: 'C-s', ctrl: true })!.full).to.equal('C-s');
      expect(keyFromBlessed(undefined, { name: 'tab', full: 'S-tab', shift: true })!.full).to.equal('S-tab');
    });
  });

  describe('the record form', () => {
    it('Tab goes name, kind, then value to value: template field names never take what is typed', () => {
      const form = typeForm(newRecordForm(), 'Bank account', 'tab', 'tab', 'erin', 'tab', 'hunter2', 'tab', 'https://bank');
      expect(formOutcome(form)).to.deep.equal({
        ok: true,
        kind: 'create',
        record: {
          kind: 'login',
          name: 'Bank account',
          fields: [
            { name: 'user', value: 'erin', sensitive: false },
            { name: 'password', value: 'hunter2', sensitive: true },
            { name: 'url', value: 'https://bank', sensitive: false },
          ],
          tags: [],
          favourite: false,
        },
      });
      // The issue's keys: a name, Tab, Tab, X, Down, Y.
      const issue = typeForm(newRecordForm(), 'Site', 'tab', 'tab', 'X', 'down', 'Y');
      expect(issue.fields.map((f) => [f.name.text, f.value.text])).to.deep.equal([
        ['user', 'X'],
        ['password', 'Y'],
        ['url', ''],
      ]);
      const shown = formLines(issue, 76).lines.map(stripTags).join('\n');
      expect(shown).to.match(/password +\* +sensitive/);
      expect(shown).to.not.match(/password +Y/);
    });

    it('asks before saving a new record with empty fields: y leaves them out, k keeps them, Esc goes back', () => {
      const form = typeForm(newRecordForm(), 'Site', 'tab', 'tab', 'me');
      const asked = formKey(form, key('C-s'));
      expect(asked.action).to.equal(undefined);
      expect(asked.state.asking).to.deep.equal(['password', 'url']);
      expect(formLines(asked.state, 76).lines.map(stripTags).join('\n')).to.contain('No value in: password, url.');
      expect(formKey(asked.state, key('d')).state.asking).to.deep.equal(['password', 'url']);
      const back = formKey(asked.state, key('escape'));
      expect(back.action).to.equal(undefined);
      expect(back.state.asking).to.equal(undefined);
      const dropped = formKey(asked.state, key('y'));
      expect(dropped.action).to.equal('save');
      expect(formOutcome(dropped.state)).to.deep.include({ ok: true, record: { kind: 'login', name: 'Site', fields: [{ name: 'user', value: 'me', sensitive: false }], tags: [], favourite: false } });
      const kept = formKey(asked.state, key('k'));
      expect(kept.action).to.equal('save');
      const outcome = formOutcome(kept.state);
      expect(outcome.ok && outcome.kind === 'create' && outcome.record.fields.map((f) => [f.name, f.value])).to.deep.equal([
        ['user', 'me'],
        ['password', ''],
        ['url', ''],
      ]);
      // Every field filled: nothing to ask.
      expect(formKey(typeForm(newRecordForm('note'), 'N', 'tab', 'tab', 'x'), key('C-s')).action).to.equal('save');
    });

    it('renames a template field only after F2, and Up/Down land on values', () => {
      const form = typeForm(newRecordForm(), 'Forum', 'down', 'down', 'olga', 'f2', 'C-u', 'email', 'tab', '@x', 'down', 'pw', 'up', 'up', 'up', 'down', 'down', 'end', '!');
      expect(form.fields.map((f) => [f.name.text, f.value.text])).to.deep.equal([
        ['email', 'olga@x!'],
        ['password', 'pw'],
        ['url', ''],
      ]);
    });

    it('swaps the template when the kind changes before anything was typed, not after', () => {
      const card = typeForm(newRecordForm(), 'tab', 'right');
      expect(card.kind).to.equal('card');
      expect(card.fields.map((f) => f.name.text)).to.deep.equal(['number', 'holder', 'expires', 'cvv']);
      const typed = typeForm(newRecordForm(), 'tab', 'tab', 'erin', 'up', 'right');
      expect(typed.kind).to.equal('card');
      expect(typed.fields[0]!.value.text).to.equal('erin');
      expect(typeForm(newRecordForm(), 'tab', 'left').kind).to.equal('custom');
    });

    it('adds, removes and marks fields sensitive', () => {
      let form = typeForm(newRecordForm('note'), 'Shopping', 'C-n', 'pin', 'tab', '1234', 'C-t');
      expect(form.fields.map((f) => [f.name.text, f.value.text, f.sensitive])).to.deep.equal([
        ['text', '', false],
        ['pin', '1234', true],
      ]);
      form = typeForm(form, 'up', 'C-d');
      expect(form.fields.map((f) => f.name.text)).to.deep.equal(['pin']);
      expect(formLines(form, 76).lines.map(stripTags).join('\n')).to.match(/pin +\*\*\*\* +sensitive/);
      expect(formLines(typeForm(form, 'C-r'), 76).lines.map(stripTags).join('\n')).to.contain('1234');
    });

    it('refuses a form without a name, a value without a field name, or two fields with one name', () => {
      expect(formOutcome(newRecordForm())).to.deep.include({ ok: false, error: 'the record needs a name', row: 0 });
      const nameless = typeForm(newRecordForm('custom'), 'X', 'tab', 'tab', 'tab', 'value');
      expect(formOutcome(nameless)).to.deep.include({ ok: false, error: 'field 1 has a value but no name', row: 2 });
      const twice = typeForm(newRecordForm('custom'), 'X', 'tab', 'tab', 'a', 'tab', '1', 'C-n', 'a', 'tab', '2');
      expect(formOutcome(twice)).to.deep.include({ ok: false, row: 3 });
    });

    it('turns an edit into only what changed: set, renamed, removed, name and kind', () => {
      const record: OpenedRecord = {
        id: '00000000-0000-4000-8000-000000000001',
        kind: 'login',
        name: 'Bank',
        fields: [
          { name: 'user', value: 'erin', sensitive: false },
          { name: 'password', value: 'hunter2', sensitive: true },
          { name: 'url', value: 'https://bank', sensitive: false },
        ],
        tags: [],
        favourite: false,
        createdAt: 1,
        updatedAt: 1,
        version: 1,
        sealed: false,
        unreadable: [],
      };
      expect(formOutcome(editRecordForm(record))).to.deep.include({ ok: true, kind: 'update', unchanged: true });
      // Down from the name lands on the kind, then on the first field's value.
      let form = typeForm(editRecordForm(record), 'down', 'down', '2');
      form = typeForm(form, 'down', 'down', 'C-d');
      form = typeForm(form, 'up', 'up', 'up', 'end', ' account');
      expect(formOutcome(form)).to.deep.equal({
        ok: true,
        kind: 'update',
        recordId: record.id,
        changes: { name: 'Bank account', setFields: [{ name: 'user', value: 'erin2', sensitive: false }], removeFields: ['url'] },
        unchanged: false,
      });
      const renamed = typeForm(editRecordForm(record), 'down', 'down', 'f2', 'backspace', 'backspace', 'backspace', 'backspace', 'login');
      const outcome = formOutcome(renamed);
      expect(outcome.ok && outcome.kind === 'update' && outcome.changes).to.deep.equal({
        setFields: [{ name: 'login', value: 'erin', sensitive: false }],
        removeFields: ['user'],
      });
    });

    it('answers C-s with save and Esc with cancel', () => {
      expect(formKey(newRecordForm(), key('C-s')).action).to.equal('save');
      expect(formKey(newRecordForm(), key('escape')).action).to.equal('cancel');
    });
  });

  describe('log in and unlock', () => {
    it('logs in with server, login and password; registering asks for the password twice', () => {
      const form = typeLogin(loginForm('127.0.0.1:7070'), 'erin', 'enter', 'secret pw');
      expect(loginKey(form, key('enter')).action).to.equal('submit');
      expect(loginOutcome(form)).to.deep.equal({ ok: true, server: '127.0.0.1:7070', login: 'erin', password: 'secret pw', register: false });
      const register = typeLogin(form, 'C-r', 'down', 'secret pX');
      expect(register.mode).to.equal('register');
      expect(loginOutcome(register)).to.deep.equal({ ok: false, error: 'the two passwords differ; type them again', row: 3 });
      expect(loginOutcome(typeLogin(register, 'backspace', 'w'))).to.deep.include({ ok: true, register: true });
      expect(loginOutcome(typeLogin(loginForm('nonsense'), 'x', 'enter', 'y'))).to.deep.include({ ok: false, row: 0 });
      expect(loginKey(form, key('escape')).action).to.equal('quit');
    });

    it('asks for the secret word unseen and says when the last one was wrong', () => {
      const prompt = type(secretPrompt('This vault is encrypted.', 'the secret word is wrong; try again'), secretKey, 'moon');
      const shown = secretLines(prompt, 60).map(stripTags).join('\n');
      expect(shown).to.contain('****');
      expect(shown).to.not.contain('moon');
      expect(shown).to.contain('the secret word is wrong; try again');
      expect(secretKey(prompt, key('enter')).action).to.equal('submit');
      expect(secretKey(secretPrompt('x'), key('enter')).action).to.equal(undefined);
    });
  });

  describe('the secret word dialog', () => {
    const typeWord = (state: ReturnType<typeof secretWordForm>, ...keys: string[]) => type(state, secretWordKey, ...keys);

    it('asks for the new word twice to turn encryption on, and for the current one first to change it, all unseen', () => {
      const on = typeWord(secretWordForm('encrypt'), 'river stone lamp', 'tab', 'river stone lamp');
      expect(secretWordKey(on, key('enter')).action).to.equal('submit');
      expect(secretWordOutcome(on)).to.deep.equal({ ok: true, mode: 'encrypt', current: '', next: 'river stone lamp' });
      expect(secretWordLines(on, 66, { busy: false }).map(stripTags).join('\n')).to.not.contain('river');
      const differ = secretWordOutcome(typeWord(secretWordForm('encrypt'), 'one word here', 'tab', 'one word herX'));
      expect(differ).to.deep.include({ ok: false, error: 'the two new secret words differ; type them again' });
      const change = typeWord(secretWordForm('change'), 'old one', 'enter', 'new words here', 'enter', 'new words here');
      expect(secretWordOutcome(change)).to.deep.equal({ ok: true, mode: 'change', current: 'old one', next: 'new words here' });
      expect(secretWordOutcome(secretWordForm('change'))).to.deep.include({ ok: false, error: 'type the current secret word' });
      expect(secretWordKey(change, key('escape')).action).to.equal('cancel');
    });
  });

  describe('history', () => {
    it('lists the newest version first and picks the newest one that is not the deletion', () => {
      const state = (deletedAt: number | null, version: number) => ({ id: 'r', kind: 'login' as const, name: 'R', fields: [], tags: [], favourite: false, createdAt: 1, updatedAt: version, version, deletedAt });
      const versions: RecordVersion[] = [
        { version: 1, at: 1, type: 'RecordCreated', clientId: 'c', state: state(null, 1) },
        { version: 4, at: 4, type: 'RecordUpdated', clientId: 'c', state: state(null, 4) },
        { version: 9, at: 9, type: 'RecordDeleted', clientId: 'c', state: state(9, 9) },
      ];
      const history = historyState('r', versions);
      expect(history.versions.map((v) => v.version)).to.deep.equal([9, 4, 1]);
      expect(history.selected).to.equal(1);
      expect(historyKey(history, key('down')).state.selected).to.equal(2);
      expect(historyKey(history, key('enter')).action).to.equal('choose');
      expect(historyKey(history, key('escape')).action).to.equal('close');
    });
  });
});
