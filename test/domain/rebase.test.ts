import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  VaultState,
  applyLocally,
  rebase,
  type CopyContent,
  type CreateRecord,
  type DeleteRecord,
  type Field,
  type RecordState,
  type RebaseResult,
  type RestoreRecord,
  type SetVaultKey,
  type UpdateRecord,
  type VaultCommand,
  type VaultEvent,
  type VaultEventData,
} from '../../src/domain/index.js';

/**
 * Pure unit tests of `rebase`: local commands made against an old synced state, re-applied over
 * the server events that landed meanwhile. The server wins per name / kind / field; the losing
 * local version is kept as a conflict copy; mutation ids travel unchanged.
 */

const T0 = Date.UTC(2024, 4, 1, 9, 30, 0, 0);
const BASE_VERSION = 10;

function field(name: string, value: string, sensitive = false): Field {
  return { name, value, sensitive };
}

function record(overrides: Partial<RecordState> = {}): RecordState {
  return {
    id: randomUUID(),
    kind: 'login',
    name: 'Bank',
    fields: [field('user', 'alice'), field('pin', '1111', true)],
    tags: [],
    favourite: false,
    createdAt: T0,
    updatedAt: T0,
    version: 3,
    deletedAt: null,
    ...overrides,
  };
}

function update(recordId: string, change: Partial<Omit<UpdateRecord, 'type' | 'recordId'>> = {}): UpdateRecord {
  return { type: 'UpdateRecord', mutationId: randomUUID(), recordId, setFields: [], removeFields: [], ...change };
}

function create(overrides: Partial<CreateRecord> = {}): CreateRecord {
  return { type: 'CreateRecord', mutationId: randomUUID(), recordId: randomUUID(), kind: 'note', name: 'New', fields: [field('text', 'hello')], ...overrides };
}

function remove(recordId: string): DeleteRecord {
  return { type: 'DeleteRecord', mutationId: randomUUID(), recordId };
}

function restore(from: RecordState, fromVersion = from.version): RestoreRecord {
  return { type: 'RestoreRecord', mutationId: randomUUID(), recordId: from.id, kind: from.kind, name: from.name, fields: from.fields, fromVersion };
}

function setKey(replacesKeyId: string | null, keyId: string = replacesKeyId ?? randomUUID()): SetVaultKey {
  return { type: 'SetVaultKey', mutationId: randomUUID(), keyId, replacesKeyId, envelope: '{"wrapped":"key"}' };
}

/** Server-side changes, as event data; `landed(cmd)` marks one that is our own command's event. */
type ServerChange = VaultEventData | { landed: VaultCommand; data: VaultEventData };

function updated(recordId: string, change: { name?: string; kind?: RecordState['kind']; setFields?: Field[]; removeFields?: string[] }): VaultEventData {
  const data: Extract<VaultEventData, { type: 'RecordUpdated' }>['data'] = { recordId, setFields: change.setFields ?? [], removeFields: change.removeFields ?? [] };
  if (change.name !== undefined) data.name = change.name;
  if (change.kind !== undefined) data.kind = change.kind;
  return { type: 'RecordUpdated', data };
}

function deleted(recordId: string): VaultEventData {
  return { type: 'RecordDeleted', data: { recordId } };
}

/** The event data a command produced on the server (for a push whose answer was lost). */
function landed(command: VaultCommand): ServerChange {
  switch (command.type) {
    case 'CreateRecord':
      return { landed: command, data: { type: 'RecordCreated', data: { recordId: command.recordId, kind: command.kind, name: command.name, fields: command.fields } } };
    case 'UpdateRecord':
      return { landed: command, data: updated(command.recordId, command) };
    case 'DeleteRecord':
      return { landed: command, data: deleted(command.recordId) };
    case 'RestoreRecord':
      return {
        landed: command,
        data: { type: 'RecordRestored', data: { recordId: command.recordId, kind: command.kind, name: command.name, fields: command.fields, fromVersion: command.fromVersion } },
      };
    case 'SetVaultKey':
      return { landed: command, data: { type: 'VaultKeySet', data: { keyId: command.keyId, envelope: command.envelope } } };
  }
}

interface Outcome extends RebaseResult {
  before: VaultState;
  after: VaultState;
  events: VaultEvent[];
  /** Ids handed out by newId, in order. */
  newIds: string[];
  /** The server state with the rebased commands applied, as the next push would make it. */
  pushed: Map<string, RecordState | undefined>;
}

function rebaseOver(input: {
  base?: RecordState[];
  baseKey?: { keyId: string; envelope: string } | null;
  server?: ServerChange[];
  pending: VaultCommand[];
  copyContent?: CopyContent;
}): Outcome {
  const base = input.base ?? [];
  const snapshot = { version: BASE_VERSION, lastModifiedAt: T0, records: base, vaultKey: input.baseKey ?? null };
  const before = VaultState.fromSnapshot({ ...snapshot, records: base.map((r) => structuredClone(r)) });
  const after = VaultState.fromSnapshot({ ...snapshot, records: base.map((r) => structuredClone(r)) });
  const events: VaultEvent[] = (input.server ?? []).map((change, index) => {
    const data = 'landed' in change ? change.data : change;
    const id = 'landed' in change ? change.landed.mutationId : randomUUID();
    const recordId = data.type === 'VaultKeySet' ? '' : data.data.recordId;
    return { ...data, id, version: BASE_VERSION + index + 1, metadata: { mutationId: id, recordId, clientId: 'other', at: T0 + 1000 + index } } as VaultEvent;
  });
  after.applyAll(events);
  const pendingCopy = structuredClone(input.pending);
  const newIds: string[] = [];
  const result = rebase({
    pending: input.pending,
    serverEvents: events,
    base: (id) => before.get(id),
    server: (id) => after.get(id),
    serverKeyId: after.vaultKey?.keyId ?? null,
    newId: () => {
      const id = randomUUID();
      newIds.push(id);
      return id;
    },
    now: T0 + 5000,
    ...(input.copyContent ? { copyContent: input.copyContent } : {}),
  });
  // rebase is pure: the pending queue it was given is left as it was.
  expect(input.pending).to.deep.equal(pendingCopy);
  const pushed = new Map<string, RecordState | undefined>(after.records);
  let version = after.version;
  for (const command of result.pending) {
    if (command.type === 'SetVaultKey') continue;
    pushed.set(command.recordId, applyLocally(pushed.get(command.recordId), command, T0 + 6000, ++version));
  }
  return { ...result, before, after, events, newIds, pushed };
}

/** The conflict copies the rebased queue creates. */
function copies(outcome: Outcome): CreateRecord[] {
  return outcome.pending.filter((c): c is CreateRecord => c.type === 'CreateRecord' && c.conflictOf !== undefined);
}

describe('rebase', () => {
  describe('updates of a record the server changed too', () => {
    it('merges changes to different fields, keeping the command (and its mutation id) as it was', () => {
      const bank = record();
      const local = update(bank.id, { setFields: [field('url', 'bank.example')] });
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })], pending: [local] });
      expect(out.conflicts).to.deep.equal([]);
      expect(out.landed).to.deep.equal([]);
      expect(out.pending).to.deep.equal([local]);
      expect(out.pushed.get(bank.id)!.fields).to.deep.equal([field('user', 'alice'), field('pin', '2222', true), field('url', 'bank.example')]);
    });

    it('gives a field changed on both sides to the server and keeps the local view of the whole record in a conflict copy', () => {
      const bank = record();
      const rename = update(bank.id, { name: 'My bank' });
      const edit = update(bank.id, { setFields: [field('pin', '3333', true), field('url', 'bank.example')] });
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })], pending: [rename, edit] });

      // The pin goes to the server's value; the rename and the url, which nobody else touched, stay.
      expect(out.pending.filter((c) => c.type === 'UpdateRecord')).to.deep.equal([rename, { ...edit, setFields: [field('url', 'bank.example')] }]);
      expect(out.pushed.get(bank.id)).to.deep.include({ name: 'My bank' });
      expect(out.pushed.get(bank.id)!.fields).to.deep.equal([field('user', 'alice'), field('pin', '2222', true), field('url', 'bank.example')]);

      // The copy holds every field as the user had it (the rename included), not just the lost one.
      const [copy, ...more] = copies(out);
      expect(more).to.deep.equal([]);
      expect(copy).to.deep.include({ conflictOf: bank.id, kind: 'login', name: 'My bank' });
      expect(copy!.fields).to.deep.equal([field('user', 'alice'), field('pin', '3333', true), field('url', 'bank.example')]);
      expect(copy!.recordId).to.not.equal(bank.id);
      expect(out.newIds).to.include(copy!.recordId).and.to.include(copy!.mutationId);
      expect(out.pushed.get(copy!.recordId)).to.deep.include({ conflictOf: bank.id, name: 'My bank' });

      expect(out.conflicts).to.deep.equal([{ recordId: bank.id, recordName: 'My bank', kind: 'edit_lost', parts: ['pin'], copyId: copy!.recordId }]);
    });

    it('lists every lost part (fields, name and kind) in one notice', () => {
      const bank = record();
      const local = update(bank.id, { name: 'Local name', kind: 'card', setFields: [field('user', 'bob'), field('pin', '3333', true), field('url', 'local.example')] });
      const server = updated(bank.id, { name: 'Server name', kind: 'custom', setFields: [field('user', 'carol')], removeFields: ['pin'] });
      const out = rebaseOver({ base: [bank], server: [server], pending: [local] });
      expect(out.conflicts).to.have.length(1);
      expect(out.conflicts[0]).to.deep.include({ kind: 'edit_lost', recordName: 'Local name' });
      expect(out.conflicts[0]!.parts).to.have.members(['name', 'kind', 'user', 'pin']).and.have.length(4);
      expect(out.pushed.get(bank.id)).to.deep.include({ name: 'Server name', kind: 'custom' });
      expect(out.pushed.get(bank.id)!.fields).to.deep.equal([field('user', 'carol'), field('url', 'local.example')]);
      expect(copies(out)[0]).to.deep.include({ name: 'Local name', kind: 'card' });
    });

    it('a name conflict loses only the name; a kind conflict only the kind', () => {
      const bank = record();
      const renamed = rebaseOver({ base: [bank], server: [updated(bank.id, { name: 'Server' })], pending: [update(bank.id, { name: 'Local', kind: 'card' })] });
      expect(renamed.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([['edit_lost', ['name']]]);
      expect(renamed.pushed.get(bank.id)).to.deep.include({ name: 'Server', kind: 'card' });
      expect(copies(renamed)[0]).to.deep.include({ name: 'Local', kind: 'card' });

      const rekinded = rebaseOver({ base: [bank], server: [updated(bank.id, { kind: 'note' })], pending: [update(bank.id, { name: 'Local', kind: 'card' })] });
      expect(rekinded.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([['edit_lost', ['kind']]]);
      expect(rekinded.pushed.get(bank.id)).to.deep.include({ name: 'Local', kind: 'note' });
      expect(copies(rekinded)[0]).to.deep.include({ name: 'Local', kind: 'card' });
    });

    it('a local rename and a server change of the kind (or of a field) merge', () => {
      const bank = record();
      const local = update(bank.id, { name: 'Local' });
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { kind: 'card', setFields: [field('pin', '0', true)] })], pending: [local] });
      expect(out.conflicts).to.deep.equal([]);
      expect(out.pending).to.deep.equal([local]);
      expect(out.pushed.get(bank.id)).to.deep.include({ name: 'Local', kind: 'card' });
    });

    it('a local removal of a field the server set loses, and so does a local set of a field the server removed', () => {
      const bank = record();
      const removal = rebaseOver({ base: [bank], server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })], pending: [update(bank.id, { removeFields: ['pin'] })] });
      expect(removal.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([['edit_lost', ['pin']]]);
      // Nothing is left of the command, so nothing but the copy is pushed.
      expect(removal.pending.map((c) => c.type)).to.deep.equal(['CreateRecord']);
      expect(removal.pushed.get(bank.id)!.fields).to.deep.equal([field('user', 'alice'), field('pin', '2222', true)]);
      expect(copies(removal)[0]!.fields).to.deep.equal([field('user', 'alice')]);

      const set = rebaseOver({ base: [bank], server: [updated(bank.id, { removeFields: ['pin'] })], pending: [update(bank.id, { setFields: [field('pin', '3333', true)] })] });
      expect(set.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([['edit_lost', ['pin']]]);
      expect(set.pushed.get(bank.id)!.fields).to.deep.equal([field('user', 'alice')]);
      expect(copies(set)[0]!.fields).to.deep.equal([field('user', 'alice'), field('pin', '3333', true)]);
    });

    it('a server restore of the record makes every local part lose', () => {
      const bank = record();
      const server: VaultEventData = { type: 'RecordRestored', data: { recordId: bank.id, kind: 'login', name: 'Old', fields: [field('user', 'old')], fromVersion: 1 } };
      const out = rebaseOver({ base: [bank], server: [server], pending: [update(bank.id, { setFields: [field('url', 'x')] })] });
      expect(out.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([['edit_lost', ['url']]]);
      expect(out.pushed.get(bank.id)).to.deep.include({ name: 'Old', fields: [field('user', 'old')] });
      expect(copies(out)[0]!.fields).to.deep.equal([field('user', 'alice'), field('pin', '1111', true), field('url', 'x')]);
    });

    it('makes one copy per record per rebase, with one notice listing every lost part', () => {
      const bank = record();
      const first = update(bank.id, { setFields: [field('pin', '3333', true)] });
      const second = update(bank.id, { name: 'Local', setFields: [field('user', 'bob')] });
      const out = rebaseOver({
        base: [bank],
        server: [updated(bank.id, { name: 'Server', setFields: [field('pin', '2222', true)] }), updated(bank.id, { setFields: [field('user', 'carol')] })],
        pending: [first, second],
      });
      expect(copies(out)).to.have.length(1);
      expect(copies(out)[0]).to.deep.include({ name: 'Local' });
      expect(copies(out)[0]!.fields).to.deep.equal([field('user', 'bob'), field('pin', '3333', true)]);
      expect(out.conflicts).to.have.length(1);
      expect(out.conflicts[0]!.parts).to.deep.equal(['pin', 'name', 'user']);
      expect(out.conflicts[0]!.copyId).to.equal(copies(out)[0]!.recordId);
      // A copy for each record that lost something, not one for all.
      const other = record({ name: 'Other' });
      const two = rebaseOver({
        base: [bank, other],
        server: [updated(bank.id, { setFields: [field('pin', '2')] }), updated(other.id, { setFields: [field('pin', '2')] })],
        pending: [update(bank.id, { setFields: [field('pin', '3')] }), update(other.id, { setFields: [field('pin', '3')] })],
      });
      expect(copies(two).map((c) => c.conflictOf)).to.deep.equal([bank.id, other.id]);
      expect(new Set(two.conflicts.map((c) => c.copyId)).size).to.equal(2);
    });

    it('re-seals the copy through copyContent (sealed values are bound to their record id)', () => {
      const bank = record();
      const calls: Array<[string, string, string]> = [];
      const copyContent: CopyContent = (content, fromId, toId) => {
        calls.push([content.name, fromId, toId]);
        return { name: `sealed(${content.name})@${toId}`, fields: content.fields.map((f) => ({ ...f, value: `${f.value}@${toId}` })), tags: content.tags };
      };
      const out = rebaseOver({
        base: [bank],
        server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })],
        pending: [update(bank.id, { setFields: [field('pin', '3333', true)] })],
        copyContent,
      });
      const copy = copies(out)[0]!;
      expect(calls).to.deep.equal([['Bank', bank.id, copy.recordId]]);
      expect(copy.name).to.equal(`sealed(Bank)@${copy.recordId}`);
      expect(copy.kind).to.equal('login');
      expect(copy.fields).to.deep.equal([field('user', `alice@${copy.recordId}`), field('pin', `3333@${copy.recordId}`, true)]);
    });
  });

  describe('records deleted, restored or re-keyed elsewhere', () => {
    it('keeps an edit of a record the server deleted as a copy, reported as edited_deleted_record', () => {
      const bank = record();
      const first = update(bank.id, { setFields: [field('pin', '3333', true)] });
      const second = update(bank.id, { setFields: [field('url', 'x')] });
      const out = rebaseOver({ base: [bank], server: [deleted(bank.id)], pending: [first, second] });
      // Neither update is pushed (the record is gone); one copy, one notice.
      expect(out.pending.map((c) => c.type)).to.deep.equal(['CreateRecord']);
      const copy = copies(out)[0]!;
      expect(copy.fields).to.deep.equal([field('user', 'alice'), field('pin', '3333', true), field('url', 'x')]);
      expect(out.conflicts).to.deep.equal([{ recordId: bank.id, recordName: 'Bank', kind: 'edited_deleted_record', parts: [], copyId: copy.recordId }]);
      expect(out.pushed.get(bank.id)!.deletedAt).to.not.equal(null);
    });

    it('skips a local delete of a record the server changed (delete_skipped), and makes no copy', () => {
      const bank = record();
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })], pending: [remove(bank.id)] });
      expect(out.pending).to.deep.equal([]);
      expect(out.conflicts).to.deep.equal([{ recordId: bank.id, recordName: 'Bank', kind: 'delete_skipped', parts: [] }]);
      expect(out.after.get(bank.id)!.deletedAt).to.equal(null);
    });

    it('drops a delete of a record the server deleted too, silently', () => {
      const bank = record();
      const other = record();
      const keep = update(other.id, { setFields: [field('x', 'y')] });
      const out = rebaseOver({ base: [bank, other], server: [deleted(bank.id)], pending: [remove(bank.id), keep] });
      expect(out.pending).to.deep.equal([keep]);
      expect(out.conflicts).to.deep.equal([]);
    });

    it('an edit then a delete of a record the server changed: the edit merges or goes to a copy, the delete is skipped', () => {
      const bank = record();
      const out = rebaseOver({
        base: [bank],
        server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })],
        pending: [update(bank.id, { setFields: [field('pin', '3333', true)] }), remove(bank.id)],
      });
      expect(out.conflicts.map((c) => c.kind)).to.deep.equal(['edit_lost', 'delete_skipped']);
      expect(copies(out)[0]!.fields).to.deep.equal([field('user', 'alice'), field('pin', '3333', true)]);
      expect(out.pushed.get(bank.id)!.deletedAt).to.equal(null);
    });

    it('loses a local restore to any server change of the record (restore_lost), keeping the restored content as a copy', () => {
      const bank = record({ deletedAt: T0 + 10, version: 5 });
      const restoring = restore(record({ id: bank.id, name: 'Bank v1', fields: [field('user', 'v1')] }), 1);
      const out = rebaseOver({
        base: [bank],
        server: [{ type: 'RecordRestored', data: { recordId: bank.id, kind: 'login', name: 'Server restore', fields: [], fromVersion: 2 } }],
        pending: [restoring],
      });
      const copy = copies(out)[0]!;
      expect(copy).to.deep.include({ conflictOf: bank.id, name: 'Bank v1', kind: 'login' });
      expect(copy.fields).to.deep.equal([field('user', 'v1')]);
      expect(out.conflicts).to.deep.equal([{ recordId: bank.id, recordName: 'Bank v1', kind: 'restore_lost', parts: [], copyId: copy.recordId }]);
      expect(out.pending.some((c) => c.type === 'RestoreRecord')).to.equal(false);
      expect(out.pushed.get(bank.id)).to.deep.include({ name: 'Server restore' });

      // A restore of a record nobody else touched goes through.
      const quiet = rebaseOver({ base: [bank], server: [updated(randomUUID(), { name: 'x' })], pending: [restoring] });
      expect(quiet.pending).to.deep.equal([restoring]);
      expect(quiet.conflicts).to.deep.equal([]);
    });

    it('a restore then an edit, both losing: the one copy holds the record as the user had it, the edit included', () => {
      const bank = record();
      const restoring = restore(record({ id: bank.id, name: 'Bank v1', fields: [field('user', 'v1')] }), 1);
      const edit = update(bank.id, { setFields: [field('pin', '3333', true)] });
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { setFields: [field('pin', '2222', true)] })], pending: [restoring, edit] });
      expect(out.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([
        ['restore_lost', []],
        ['edit_lost', ['pin']],
      ]);
      const [copy, ...more] = copies(out);
      expect(more).to.deep.equal([]);
      expect(copy).to.deep.include({ name: 'Bank v1' });
      expect(copy!.fields).to.deep.equal([field('user', 'v1'), field('pin', '3333', true)]);
      expect(out.conflicts.map((c) => c.copyId)).to.deep.equal([copy!.recordId, copy!.recordId]);
    });

    it('reports key_changed and drops a SetVaultKey when the server set a key meanwhile', () => {
      const turnOn = setKey(null);
      const out = rebaseOver({ server: [{ type: 'VaultKeySet', data: { keyId: randomUUID(), envelope: '{}' } }], pending: [turnOn] });
      expect(out.pending).to.deep.equal([]);
      expect(out.conflicts).to.deep.equal([{ recordId: '', recordName: '', kind: 'key_changed', parts: [] }]);

      // A re-wrap of a key that is no longer the server's is dropped too, even without a new event.
      const stale = rebaseOver({ baseKey: { keyId: randomUUID(), envelope: '{}' }, pending: [setKey(randomUUID())] });
      expect(stale.conflicts.map((c) => c.kind)).to.deep.equal(['key_changed']);

      // A re-wrap of the current key, with only record changes on the server, is kept.
      const keyId = randomUUID();
      const rewrap = setKey(keyId);
      const fine = rebaseOver({ baseKey: { keyId, envelope: '{}' }, server: [updated(randomUUID(), { name: 'x' })], pending: [rewrap] });
      expect(fine.pending).to.deep.equal([rewrap]);
      expect(fine.conflicts).to.deep.equal([]);
    });
  });

  describe('commands that landed before their answer was lost', () => {
    it('leaves the queue, is reported as landed, and is no conflict with the commands after it', () => {
      const bank = record();
      const first = update(bank.id, { setFields: [field('pin', '3333', true)] });
      const second = update(bank.id, { setFields: [field('url', 'x')] });
      const out = rebaseOver({ base: [bank], server: [landed(first)], pending: [first, second] });
      expect(out.landed).to.deep.equal([first.mutationId]);
      expect(out.pending).to.deep.equal([second]);
      expect(out.conflicts).to.deep.equal([]);
    });

    it('is not a conflict even when our own landed event changed the field a later local command changes', () => {
      const bank = record();
      const first = update(bank.id, { setFields: [field('pin', '3333', true)] });
      const second = update(bank.id, { setFields: [field('pin', '4444', true)] });
      const created = create();
      const out = rebaseOver({ base: [bank], server: [landed(created), landed(first)], pending: [created, first, second] });
      expect(out.landed).to.deep.equal([created.mutationId, first.mutationId]);
      expect(out.pending).to.deep.equal([second]);
      expect(out.conflicts).to.deep.equal([]);
    });

    it('still sees another device\'s events that came after our landed ones', () => {
      const bank = record();
      const first = update(bank.id, { name: 'Mine' });
      const second = update(bank.id, { setFields: [field('pin', '3333', true)] });
      const out = rebaseOver({
        base: [bank],
        server: [landed(first), updated(bank.id, { setFields: [field('pin', '2222', true)] })],
        pending: [first, second],
      });
      expect(out.landed).to.deep.equal([first.mutationId]);
      expect(out.conflicts.map((c) => [c.kind, c.parts])).to.deep.equal([['edit_lost', ['pin']]]);
      // The copy is the record as the user had it: with the landed rename too.
      expect(copies(out)[0]).to.deep.include({ name: 'Mine' });
      expect(copies(out)[0]!.fields).to.deep.equal([field('user', 'alice'), field('pin', '3333', true)]);
    });

    it('keeps an edit of a record whose creation landed unanswered, when another device changed the same field meanwhile', () => {
      // Device A created the record; the push landed but its answer was lost; A then edited the
      // record offline while device B (which had pulled the record) changed the same field.
      const created = create({ fields: [field('pin', '1111', true)] });
      const edit = update(created.recordId, { setFields: [field('pin', '3333', true)] });
      const out = rebaseOver({ server: [landed(created), updated(created.recordId, { setFields: [field('pin', '2222', true)] })], pending: [created, edit] });
      expect(out.landed).to.deep.equal([created.mutationId]);
      expect(out.conflicts).to.have.length(1);
      expect(out.conflicts[0]).to.deep.include({ kind: 'edit_lost', parts: ['pin'], recordName: 'New' });
      const copy = copies(out)[0];
      expect(copy, 'the losing edit must be kept in a conflict copy').to.not.equal(undefined);
      expect(out.conflicts[0]!.copyId).to.equal(copy!.recordId);
      expect(copy!.fields).to.deep.equal([field('pin', '3333', true)]);
    });
  });

  describe('what passes through', () => {
    it('leaves creates alone, including a create followed by edits of the new record', () => {
      const bank = record();
      const made = create();
      const edited = update(made.recordId, { setFields: [field('text', 'changed')] });
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { name: 'x' }), deleted(bank.id)], pending: [made, edited] });
      expect(out.pending).to.deep.equal([made, edited]);
      expect(out.conflicts).to.deep.equal([]);
    });

    it('keeps commands on records the server did not touch, in order, with their mutation ids', () => {
      const a = record();
      const b = record();
      const touched = record();
      const pending: VaultCommand[] = [
        update(a.id, { name: 'A' }),
        remove(b.id),
        create(),
        update(touched.id, { setFields: [field('pin', '9', true), field('other', 'kept')] }),
        update(a.id, { setFields: [field('x', '1')] }),
      ];
      const out = rebaseOver({ base: [a, b, touched], server: [updated(touched.id, { setFields: [field('pin', '8', true)] })], pending });
      const ids = (commands: VaultCommand[]) => commands.filter((c) => !(c.type === 'CreateRecord' && c.conflictOf)).map((c) => c.mutationId);
      expect(ids(out.pending)).to.deep.equal(pending.map((c) => c.mutationId));
      expect(out.pending[3]).to.deep.equal({ ...pending[3], setFields: [field('other', 'kept')] });
    });

    it('an empty queue or no server events change nothing', () => {
      const bank = record();
      expect(rebaseOver({ base: [bank], server: [updated(bank.id, { name: 'x' })], pending: [] })).to.deep.include({ pending: [], conflicts: [], landed: [] });
      const pending = [update(bank.id, { name: 'y' }), remove(bank.id)];
      expect(rebaseOver({ base: [bank], pending }).pending).to.deep.equal(pending);
    });

    it('drops and reports (rejected) what the new server state would refuse', () => {
      const bank = record();
      const many = Array.from({ length: 99 }, (_, i) => field(`server${i}`, 'v'));
      const local = update(bank.id, { setFields: [field('local1', 'a'), field('local2', 'b')] });
      const out = rebaseOver({ base: [bank], server: [updated(bank.id, { setFields: many })], pending: [local] });
      expect(out.pending).to.deep.equal([]);
      expect(out.conflicts).to.have.length(1);
      expect(out.conflicts[0]).to.deep.include({ kind: 'rejected', recordId: bank.id });
      expect(out.conflicts[0]!.parts[0]).to.match(/at most 100/);
    });
  });
});
