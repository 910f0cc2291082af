import { expect } from 'chai';
import { changeOf, fieldsToCreate, formProblem, row } from '../../src/client/web/app/vault/form-rows.js';
import type { RecordView } from '../../src/client/web/api/schemas.js';

const original: RecordView = {
  id: '5b4c1d8e-0000-4000-8000-000000000001',
  kind: 'login',
  name: 'Bank',
  fields: [
    { name: 'user', value: 'ann', sensitive: false, hidden: null },
    { name: 'pin', value: '1234', sensitive: true, hidden: null },
    { name: 'url', value: 'https://bank.example', sensitive: false, hidden: null },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
  sealed: false,
};

describe("the web page's record form", () => {
  it('sends only what an edit changed: new and changed fields set, missing ones removed, a rename as both', () => {
    const rows = [row('user', 'ann', false), row('pin', '1234', false), row('website', 'https://bank.example', false), row('note', 'new', false)];
    expect(changeOf(original, 'Bank', 'login', rows)).to.deep.equal({
      setFields: [
        { name: 'pin', value: '1234', sensitive: false },
        { name: 'website', value: 'https://bank.example', sensitive: false },
        { name: 'note', value: 'new', sensitive: false },
      ],
      removeFields: ['url'],
    });
    expect(changeOf(original, ' Bank ', 'login', original.fields.map((f) => row(f.name, f.value ?? '', f.sensitive)))).to.deep.equal({});
    expect(changeOf(original, 'Savings', 'card', original.fields.map((f) => row(f.name, f.value ?? '', f.sensitive)))).to.deep.equal({ name: 'Savings', kind: 'card' });
  });

  it('leaves out template fields left empty when creating', () => {
    expect(fieldsToCreate([row('user', 'ann', false), row('password', '', true), row('', '', false)])).to.deep.equal([{ name: 'user', value: 'ann', sensitive: false }]);
  });

  it('says in a sentence what is wrong with the form', () => {
    expect(formProblem('  ', [])).to.equal('Give the record a name.');
    expect(formProblem('Bank', [row('', 'orphan value', false)])).to.equal('A field with a value has no name: name it or remove it.');
    expect(formProblem('Bank', [row('pin', '1', true), row(' pin ', '2', false)])).to.equal('Two fields are named "pin": each needs its own name.');
    expect(formProblem('Bank', [row('pin', '1', true), row('', '', false)])).to.equal(null);
  });
});
