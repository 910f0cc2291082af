import { expect } from 'chai';
import { describeChange, diffRecords, historyDiffs } from '../../../src/client/core/record-diff.js';
import type { OpenedRecord } from '../../../src/client/sync/record-crypto.js';

/** History's field-level diff: what changed between two versions, sensitive values masked unless revealed. */
describe('client core: what changed between versions', () => {
  const base: OpenedRecord = {
    id: '00000000-0000-4000-8000-000000000001',
    kind: 'login',
    name: 'Router',
    fields: [
      { name: 'user', value: 'admin', sensitive: false },
      { name: 'password', value: 'admin123', sensitive: true },
      { name: 'url', value: 'http://192.168.0.1', sensitive: false },
    ],
    tags: ['home'],
    favourite: false,
    createdAt: 1,
    updatedAt: 1,
    version: 1,
    sealed: false,
    unreadable: [],
  };
  const next: OpenedRecord = {
    ...base,
    name: 'Home router',
    fields: [
      { name: 'user', value: 'admin', sensitive: false },
      { name: 'password', value: 's3cret!', sensitive: true },
      { name: 'note', value: 'first line\nsecond line', sensitive: false },
    ],
    tags: ['home', 'network'],
    favourite: true,
    version: 2,
  };

  it('names each change: name, tags, star, fields set, added and removed, with secrets masked', () => {
    const lines = diffRecords(base, next).map(describeChange);
    expect(lines).to.deep.equal([
      'name: "Router" -> "Home router"',
      'tags: +network',
      'starred',
      'password: ******** -> ********',
      'note: added "first line\\nsecond line"',
      'url: removed (was "http://192.168.0.1")',
    ]);
    expect(lines.join('\n')).to.not.contain('s3cret');
  });

  it('shows the secrets when revealed', () => {
    expect(diffRecords(base, next, { reveal: true }).map(describeChange)).to.include('password: "admin123" -> "s3cret!"');
  });

  it('masks a value on both sides when it was sensitive on either, and says when only the flag changed', () => {
    const plain = { ...base, fields: [{ name: 'pin', value: '1234', sensitive: false }] };
    const hidden = { ...base, fields: [{ name: 'pin', value: '9999', sensitive: true }] };
    expect(diffRecords(plain, hidden).map(describeChange)).to.deep.equal(['pin: ******** -> ******** (now sensitive)']);
    const flagOnly = { ...base, fields: [{ name: 'pin', value: '1234', sensitive: true }] };
    expect(diffRecords(plain, flagOnly).map(describeChange)).to.deep.equal(['pin: (now sensitive)']);
  });

  it('says "(sealed)" for what cannot be opened, and claims no change it cannot see', () => {
    const locked = { ...base, unreadable: ['password'], fields: base.fields.map((f) => (f.name === 'password' ? { ...f, value: 'kpr1.AAAA' } : f)) };
    const lockedLater = { ...locked, fields: locked.fields.map((f) => (f.name === 'password' ? { ...f, value: 'kpr1.BBBB' } : f)) };
    expect(diffRecords(locked, lockedLater)).to.deep.equal([]);
    expect(diffRecords(base, locked, { reveal: true }).map(describeChange)).to.deep.equal(['password: "admin123" -> (sealed)']);
  });

  it('walks a history oldest first: created, changed, deleted, restored', () => {
    const versions = [
      { state: { deletedAt: null }, type: 'RecordCreated', opened: base },
      { state: { deletedAt: null }, type: 'RecordUpdated', opened: next },
      { state: { deletedAt: 5 }, type: 'RecordDeleted', opened: next },
      { state: { deletedAt: null }, type: 'RecordRestored', fromVersion: 1, opened: base },
    ];
    const described = historyDiffs(versions, (v) => v.opened).map(({ changes }) => changes.map(describeChange));
    expect(described[0]![0]).to.equal('created');
    expect(described[0]).to.include('password: added ********');
    expect(described[2]).to.deep.equal(['deleted']);
    expect(described[3]![0]).to.equal('restored as at version 1');
    expect(described[3]).to.include('name: "Home router" -> "Router"');
  });
});
