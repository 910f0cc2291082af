import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { ZodError } from 'zod';
import {
  DomainError,
  LIMITS,
  VaultState,
  applyFieldChanges,
  commandSchema,
  createRecordSchema,
  decide,
  deleteRecordSchema,
  evolve,
  streamIdForUser,
  toVaultEvent,
  updateRecordSchema,
  withoutTombstone,
  type CreateRecord,
  type DeleteRecord,
  type Field,
  type RecordState,
  type UpdateRecord,
  type RecordEvent,
  type RecordEventData,
} from '../../src/domain/index.js';

/** Pure unit tests of the domain: the decider, the fold, and the schemas guarding its input. */

const T0 = Date.UTC(2024, 4, 1, 9, 30, 0, 123);

function field(name: string, value = `${name}-value`, sensitive = false): Field {
  return { name, value, sensitive };
}

function fieldsNamed(count: number, prefix = 'f'): Field[] {
  return Array.from({ length: count }, (_, i) => field(`${prefix}${i}`));
}

function liveRecord(overrides: Partial<RecordState> = {}): RecordState {
  return {
    id: randomUUID(),
    kind: 'login',
    name: 'GitHub',
    fields: [field('username', 'octocat'), field('password', 'hunter2', true), field('url', 'https://github.com')],
    tags: [],
    favourite: false,
    createdAt: T0,
    updatedAt: T0 + 1000,
    version: 2,
    deletedAt: null,
    ...overrides,
  };
}

function deletedRecord(overrides: Partial<RecordState> = {}): RecordState {
  return liveRecord({ deletedAt: T0 + 5000, updatedAt: T0 + 5000, version: 3, ...overrides });
}

function createCommand(overrides: Partial<CreateRecord> = {}): CreateRecord {
  return {
    type: 'CreateRecord',
    mutationId: randomUUID(),
    recordId: randomUUID(),
    kind: 'login',
    name: 'GitHub',
    fields: [field('username', 'octocat'), field('password', 'hunter2', true)],
    ...overrides,
  };
}

function updateCommand(recordId: string, overrides: Partial<UpdateRecord> = {}): UpdateRecord {
  return { type: 'UpdateRecord', mutationId: randomUUID(), recordId, setFields: [], removeFields: [], ...overrides };
}

function deleteCommand(recordId: string): DeleteRecord {
  return { type: 'DeleteRecord', mutationId: randomUUID(), recordId };
}

function event(data: RecordEventData, version: number, at: number, clientId = 'laptop'): RecordEvent {
  const mutationId = randomUUID();
  return { ...data, id: mutationId, version, metadata: { mutationId, recordId: data.data.recordId, clientId, at } } as RecordEvent;
}

function created(recordId: string, version: number, at: number, fields: Field[] = [field('a'), field('b')], name = 'Record', kind: RecordState['kind'] = 'note'): RecordEvent {
  return event({ type: 'RecordCreated', data: { recordId, kind, name, fields } }, version, at);
}

function updated(
  recordId: string,
  version: number,
  at: number,
  change: { setFields?: Field[]; removeFields?: string[]; name?: string; kind?: RecordState['kind'] } = {},
): RecordEvent {
  const data: Extract<RecordEventData, { type: 'RecordUpdated' }>['data'] = {
    recordId,
    setFields: change.setFields ?? [],
    removeFields: change.removeFields ?? [],
  };
  if (change.name !== undefined) data.name = change.name;
  if (change.kind !== undefined) data.kind = change.kind;
  return event({ type: 'RecordUpdated', data }, version, at);
}

function deleted(recordId: string, version: number, at: number): RecordEvent {
  return event({ type: 'RecordDeleted', data: { recordId } }, version, at);
}

function domainErrorOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(DomainError);
    return error as DomainError;
  }
  return expect.fail('expected a DomainError');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The messages of a failed parse, so tests can check *why* input was refused. */
function issuesOf(result: { success: boolean; error?: ZodError }): string[] {
  expect(result.success, 'expected the parse to fail').to.equal(false);
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('domain: decide', function () {
  describe('CreateRecord', function () {
    it('creates a missing record with exactly the command content', function () {
      const command = createCommand({ kind: 'card', name: 'Visa', fields: [field('number', '4111', true), field('expiry', '12/29')] });
      expect(decide(command, undefined)).to.deep.equal({
        type: 'RecordCreated',
        data: { recordId: command.recordId, kind: 'card', name: 'Visa', fields: [field('number', '4111', true), field('expiry', '12/29')] },
      });
    });

    it('refuses a record id that is live (record_exists)', function () {
      const state = liveRecord();
      const error = domainErrorOf(() => decide(createCommand({ recordId: state.id }), state));
      expect(error.code).to.equal('record_exists');
      expect(error.message).to.contain(state.id);
    });

    it('refuses a record id that was deleted: ids are never reused (record_exists)', function () {
      const state = deletedRecord();
      expect(domainErrorOf(() => decide(createCommand({ recordId: state.id }), state)).code).to.equal('record_exists');
    });
  });

  describe('UpdateRecord', function () {
    it('refuses a missing record (record_not_found)', function () {
      const recordId = randomUUID();
      const error = domainErrorOf(() => decide(updateCommand(recordId, { name: 'x' }), undefined));
      expect(error.code).to.equal('record_not_found');
      expect(error.message).to.contain(recordId);
    });

    it('refuses a deleted record (record_deleted)', function () {
      const state = deletedRecord();
      expect(domainErrorOf(() => decide(updateCommand(state.id, { name: 'x' }), state)).code).to.equal('record_deleted');
    });

    it('emits only the change, with name and kind only when the command gives them', function () {
      const state = liveRecord();
      const command = updateCommand(state.id, { setFields: [field('password', 'correct horse', true)], removeFields: ['url'] });
      const decided = decide(command, state);
      expect(decided).to.deep.equal({
        type: 'RecordUpdated',
        data: { recordId: state.id, setFields: [field('password', 'correct horse', true)], removeFields: ['url'] },
      });
      expect(decided.data).to.not.have.property('name');
      expect(decided.data).to.not.have.property('kind');
    });

    it('carries a rename and a kind change', function () {
      const state = liveRecord();
      const decided = decide(updateCommand(state.id, { name: 'GitHub (work)', kind: 'custom' }), state);
      expect(decided).to.deep.equal({
        type: 'RecordUpdated',
        data: { recordId: state.id, name: 'GitHub (work)', kind: 'custom', setFields: [], removeFields: [] },
      });
    });

    it(`refuses an update that would leave more than ${LIMITS.fieldCountMax} fields (limit_exceeded)`, function () {
      const state = liveRecord({ fields: fieldsNamed(LIMITS.fieldCountMax - 1) });
      const error = domainErrorOf(() => decide(updateCommand(state.id, { setFields: [field('x1'), field('x2')] }), state));
      expect(error.code).to.equal('limit_exceeded');
      expect(error.message).to.contain(String(LIMITS.fieldCountMax + 1));
    });

    it('allows exactly the limit, and counts replaced and removed fields correctly', function () {
      const state = liveRecord({ fields: fieldsNamed(LIMITS.fieldCountMax - 1) });
      // one new field: exactly at the limit
      expect(decide(updateCommand(state.id, { setFields: [field('new')] }), state).type).to.equal('RecordUpdated');
      const full = liveRecord({ fields: fieldsNamed(LIMITS.fieldCountMax) });
      // replacing an existing field does not add one
      expect(decide(updateCommand(full.id, { setFields: [field('f0', 'changed')] }), full).type).to.equal('RecordUpdated');
      // removing one makes room for a new one
      expect(decide(updateCommand(full.id, { removeFields: ['f5'], setFields: [field('new')] }), full).type).to.equal('RecordUpdated');
      // but a new one without a removal does not fit
      expect(domainErrorOf(() => decide(updateCommand(full.id, { setFields: [field('new')] }), full)).code).to.equal('limit_exceeded');
    });
  });

  describe(`a record of at most ${LIMITS.recordBytesMax} bytes (name and fields as JSON)`, function () {
    const big = (count: number, char = 'x') => Array.from({ length: count }, (_, i) => field(`v${i}`, char.repeat(LIMITS.fieldValueMax)));
    // 56 values of 64 KiB go over 3.5 MiB, 55 do not.
    const fits = 55;

    it('creates and restores a record up to the limit and refuses one above it (limit_exceeded)', function () {
      expect(decide(createCommand({ fields: big(fits) }), undefined).type).to.equal('RecordCreated');
      const error = domainErrorOf(() => decide(createCommand({ fields: big(fits + 1) }), undefined));
      expect(error.code).to.equal('limit_exceeded');
      expect(error.message).to.match(/would be \d+ bytes; at most 3670016/);
      const state = deletedRecord();
      expect(domainErrorOf(() => decide({ type: 'RestoreRecord', mutationId: randomUUID(), recordId: state.id, kind: 'note', name: 'n', fields: big(fits + 1), fromVersion: 1 }, state)).code).to.equal(
        'limit_exceeded',
      );
    });

    it('counts the record an update leaves, and characters JSON escapes as what they take', function () {
      const state = liveRecord({ fields: big(fits) });
      expect(domainErrorOf(() => decide(updateCommand(state.id, { setFields: [field('one more', 'x'.repeat(LIMITS.fieldValueMax))] }), state)).code).to.equal('limit_exceeded');
      expect(decide(updateCommand(state.id, { removeFields: ['v0'], setFields: [field('instead', 'x'.repeat(LIMITS.fieldValueMax))] }), state).type).to.equal('RecordUpdated');
      // A quote takes two bytes in JSON: half as many values of them reach the limit.
      expect(domainErrorOf(() => decide(createCommand({ fields: big(Math.ceil(fits / 2) + 1, '"') }), undefined)).code).to.equal('limit_exceeded');
      // A character of three UTF-8 bytes takes three.
      expect(domainErrorOf(() => decide(createCommand({ fields: big(Math.ceil(fits / 3) + 1, '€') }), undefined)).code).to.equal('limit_exceeded');
      expect(decide(createCommand({ fields: big(Math.floor(fits / 3), '€') }), undefined).type).to.equal('RecordCreated');
    });
  });

  describe('DeleteRecord', function () {
    it('deletes a live record', function () {
      const state = liveRecord();
      expect(decide(deleteCommand(state.id), state)).to.deep.equal({ type: 'RecordDeleted', data: { recordId: state.id } });
    });

    it('refuses a missing record (record_not_found)', function () {
      expect(domainErrorOf(() => decide(deleteCommand(randomUUID()), undefined)).code).to.equal('record_not_found');
    });

    it('refuses a record that is already deleted (record_deleted)', function () {
      const state = deletedRecord();
      expect(domainErrorOf(() => decide(deleteCommand(state.id), state)).code).to.equal('record_deleted');
    });
  });

  it('never changes the state it decides on', function () {
    const state = deepFreeze(liveRecord());
    const snapshot = structuredClone(state);
    decide(updateCommand(state.id, { setFields: [field('username', 'new'), field('extra')], removeFields: ['url'], name: 'n' }), state);
    decide(deleteCommand(state.id), state);
    expect(state).to.deep.equal(snapshot);
  });
});

describe('domain: evolve', function () {
  it('RecordCreated builds the record with created and updated time from metadata.at and the event version', function () {
    const id = randomUUID();
    const fields = [field('username', 'me'), field('password', 'pw', true)];
    const next = evolve(undefined, created(id, 7, T0 + 42, fields, 'Bank', 'login'));
    expect(next).to.deep.equal({
      id,
      kind: 'login',
      name: 'Bank',
      fields,
      tags: [],
      favourite: false,
      createdAt: T0 + 42,
      updatedAt: T0 + 42,
      version: 7,
      deletedAt: null,
    });
  });

  it('RecordUpdated keeps createdAt, takes updatedAt and version from the event', function () {
    const id = randomUUID();
    const start = evolve(undefined, created(id, 1, T0));
    const next = evolve(start, updated(id, 4, T0 + 9000, { setFields: [field('a', 'A2')] }))!;
    expect(next.createdAt).to.equal(T0);
    expect(next.updatedAt).to.equal(T0 + 9000);
    expect(next.version).to.equal(4);
    expect(next.deletedAt).to.equal(null);
  });

  it('RecordUpdated keeps a replaced field in place, appends a new one, drops a removed one', function () {
    const id = randomUUID();
    const start = evolve(undefined, created(id, 1, T0, [field('a'), field('b'), field('c'), field('d')]));
    const next = evolve(
      start,
      updated(id, 2, T0 + 1, { setFields: [field('new1'), field('b', 'B2', true), field('new2')], removeFields: ['c'] }),
    )!;
    expect(next.fields).to.deep.equal([field('a'), field('b', 'B2', true), field('d'), field('new1'), field('new2')]);
  });

  it('RecordUpdated changes name and kind only when the event gives them', function () {
    const id = randomUUID();
    const start = evolve(undefined, created(id, 1, T0, [field('a')], 'Original', 'note'))!;
    const fieldsOnly = evolve(start, updated(id, 2, T0 + 1, { setFields: [field('b')] }))!;
    expect(fieldsOnly.name).to.equal('Original');
    expect(fieldsOnly.kind).to.equal('note');
    const renamed = evolve(fieldsOnly, updated(id, 3, T0 + 2, { name: 'Renamed' }))!;
    expect(renamed.name).to.equal('Renamed');
    expect(renamed.kind).to.equal('note');
    expect(renamed.fields).to.deep.equal([field('a'), field('b')]);
    const rekinded = evolve(renamed, updated(id, 4, T0 + 3, { kind: 'custom' }))!;
    expect(rekinded.name).to.equal('Renamed');
    expect(rekinded.kind).to.equal('custom');
  });

  it('RecordDeleted marks the record deleted at metadata.at and keeps its content', function () {
    const id = randomUUID();
    const start = evolve(undefined, created(id, 1, T0, [field('a')], 'Kept', 'card'));
    const next = evolve(start, deleted(id, 5, T0 + 777));
    expect(next).to.deep.equal({
      id,
      kind: 'card',
      name: 'Kept',
      fields: [field('a')],
      tags: [],
      favourite: false,
      createdAt: T0,
      updatedAt: T0 + 777,
      version: 5,
      deletedAt: T0 + 777,
    });
  });

  it('an update or delete of an unknown record yields no record', function () {
    const id = randomUUID();
    expect(evolve(undefined, updated(id, 1, T0, { name: 'x' }))).to.equal(undefined);
    expect(evolve(undefined, deleted(id, 1, T0))).to.equal(undefined);
  });

  it('never mutates the state it is given', function () {
    const id = randomUUID();
    const start = deepFreeze(evolve(undefined, created(id, 1, T0, [field('a'), field('b')]))!);
    const copy = structuredClone(start);
    evolve(start, updated(id, 2, T0 + 1, { setFields: [field('a', 'A2'), field('c')], removeFields: ['b'], name: 'n' }));
    evolve(start, deleted(id, 3, T0 + 2));
    expect(start).to.deep.equal(copy);
  });
});

describe('domain: applyFieldChanges', function () {
  const base = [field('a'), field('b'), field('c')];

  it('replaces a field in its position', function () {
    expect(applyFieldChanges(base, [field('b', 'B2', true)], [])).to.deep.equal([field('a'), field('b', 'B2', true), field('c')]);
  });

  it('appends new fields in the order given', function () {
    expect(applyFieldChanges(base, [field('y'), field('x')], [])).to.deep.equal([...base, field('y'), field('x')]);
  });

  it('removes fields, ignoring names that are not there', function () {
    expect(applyFieldChanges(base, [], ['a', 'zzz'])).to.deep.equal([field('b'), field('c')]);
  });

  it('removes before it sets: removing and setting the same name moves that field last', function () {
    expect(applyFieldChanges(base, [field('a', 'A2')], ['a'])).to.deep.equal([field('b'), field('c'), field('a', 'A2')]);
  });

  it('returns a new list and leaves its inputs alone', function () {
    const fields = deepFreeze([field('a'), field('b')]);
    const set = deepFreeze([field('a', 'A2'), field('c')]);
    const remove = deepFreeze(['b']);
    const next = applyFieldChanges(fields, set, remove);
    expect(next).to.deep.equal([field('a', 'A2'), field('c')]);
    expect(next).to.not.equal(fields);
    expect(fields).to.deep.equal([field('a'), field('b')]);
  });

  it('with no changes returns an equal list', function () {
    expect(applyFieldChanges(base, [], [])).to.deep.equal(base);
  });
});

describe('domain: VaultState', function () {
  it('folds a stream: version and lastModifiedAt follow the last event, records follow evolve', function () {
    const r1 = randomUUID();
    const r2 = randomUUID();
    const state = new VaultState().applyAll([
      created(r1, 1, T0, [field('a')], 'One'),
      created(r2, 2, T0 + 10, [field('x')], 'Two'),
      updated(r1, 3, T0 + 20, { setFields: [field('b')], name: 'One!' }),
    ]);
    expect(state.version).to.equal(3);
    expect(state.lastModifiedAt).to.equal(T0 + 20);
    expect(state.get(r1)).to.deep.include({ name: 'One!', version: 3, createdAt: T0, updatedAt: T0 + 20, fields: [field('a'), field('b')] });
    expect(state.get(r2)).to.deep.include({ name: 'Two', version: 2 });
  });

  it('starts empty at version 0', function () {
    const state = new VaultState();
    expect(state.version).to.equal(0);
    expect(state.lastModifiedAt).to.equal(0);
    expect(state.live()).to.deep.equal([]);
  });

  it('refuses a first event that is not version 1', function () {
    expect(() => new VaultState().apply(created(randomUUID(), 2, T0))).to.throw(/version 2 does not follow version 0/);
  });

  it('refuses a version gap and leaves the state as it was', function () {
    const r1 = randomUUID();
    const state = new VaultState().applyAll([created(r1, 1, T0), updated(r1, 2, T0 + 1, { name: 'v2' })]);
    expect(() => state.apply(updated(r1, 4, T0 + 2, { name: 'v4' }))).to.throw(/version 4 does not follow version 2/);
    expect(state.version).to.equal(2);
    expect(state.lastModifiedAt).to.equal(T0 + 1);
    expect(state.get(r1)!.name).to.equal('v2');
  });

  it('refuses a repeated event and leaves the state as it was', function () {
    const r1 = randomUUID();
    const first = created(r1, 1, T0);
    const second = updated(r1, 2, T0 + 1, { name: 'v2' });
    const state = new VaultState().applyAll([first, second]);
    expect(() => state.apply(second)).to.throw(/version 2 does not follow version 2/);
    expect(() => state.apply(first)).to.throw(/does not follow/);
    expect(state.version).to.equal(2);
    expect(state.get(r1)!.version).to.equal(2);
  });

  it('advances the version on an event for an unknown record without inventing a record', function () {
    const vault = new VaultState();
    const ghost = randomUUID();
    vault.apply(updated(ghost, 1, T0, { name: 'ghost' }));
    expect(vault.version).to.equal(1);
    expect(vault.get(ghost)).to.equal(undefined);
    expect(vault.records.size).to.equal(0);
  });

  it('live() lists the records that are not deleted, oldest first, without the tombstone field', function () {
    const [r1, r2, r3] = [randomUUID(), randomUUID(), randomUUID()];
    const state = new VaultState().applyAll([
      created(r1, 1, T0, [field('a')], 'First'),
      created(r2, 2, T0 + 1, [field('b')], 'Second'),
      created(r3, 3, T0 + 2, [field('c')], 'Third'),
      deleted(r2, 4, T0 + 3),
      updated(r1, 5, T0 + 4, { name: 'First (renamed)' }),
    ]);
    const live = state.live();
    expect(live.map((record) => record.id)).to.deep.equal([r1, r3]);
    for (const record of live) expect(record).to.not.have.property('deletedAt');
    expect(live[0]).to.deep.equal({
      id: r1,
      kind: 'note',
      name: 'First (renamed)',
      fields: [field('a')],
      tags: [],
      favourite: false,
      createdAt: T0,
      updatedAt: T0 + 4,
      version: 5,
    });
    // the deleted record is still known (its id is never reused)
    expect(state.get(r2)).to.deep.include({ deletedAt: T0 + 3, version: 4 });
  });

  it('withoutTombstone drops only deletedAt; streamIdForUser names the user stream', function () {
    const state = deletedRecord();
    const { deletedAt: _ignored, ...rest } = state;
    expect(withoutTombstone(state)).to.deep.equal(rest);
    const userId = randomUUID();
    expect(streamIdForUser(userId)).to.equal(`user-${userId}`);
  });
});

describe('domain: command schemas', function () {
  function rawCreate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type: 'CreateRecord',
      mutationId: randomUUID(),
      recordId: randomUUID(),
      kind: 'login',
      name: 'GitHub',
      fields: [field('username', 'octocat'), field('password', 'hunter2', true)],
      ...overrides,
    };
  }

  function rawUpdate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { type: 'UpdateRecord', mutationId: randomUUID(), recordId: randomUUID(), setFields: [], removeFields: [], ...overrides };
  }

  it('accepts a valid create, update and delete through the discriminated union', function () {
    const create = rawCreate();
    expect(commandSchema.parse(create)).to.deep.equal(create);
    const update = rawUpdate({ name: 'x' });
    expect(commandSchema.parse(update)).to.deep.equal(update);
    const del = { type: 'DeleteRecord', mutationId: randomUUID(), recordId: randomUUID() };
    expect(commandSchema.parse(del)).to.deep.equal(del);
    expect(deleteRecordSchema.parse(del)).to.deep.equal(del);
  });

  it('refuses an unknown command type', function () {
    expect(commandSchema.safeParse({ ...rawCreate(), type: 'RenameRecord' }).success).to.equal(false);
  });

  it('refuses a record id or mutation id that is not a UUID', function () {
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ recordId: 'not-a-uuid' })))).to.deep.equal(['recordId: must be a UUID']);
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ mutationId: '12345' })))).to.deep.equal(['mutationId: must be a UUID']);
    expect(updateRecordSchema.safeParse(rawUpdate({ recordId: '', name: 'x' })).success).to.equal(false);
    expect(deleteRecordSchema.safeParse({ type: 'DeleteRecord', mutationId: randomUUID(), recordId: 42 }).success).to.equal(false);
  });

  it('normalises upper-case UUIDs to lower case (record id and mutation id)', function () {
    const recordId = randomUUID();
    const mutationId = randomUUID();
    const create = createRecordSchema.parse(rawCreate({ recordId: recordId.toUpperCase(), mutationId: mutationId.toUpperCase() }));
    expect(create.recordId).to.equal(recordId);
    expect(create.mutationId).to.equal(mutationId);
    const update = updateRecordSchema.parse(rawUpdate({ recordId: recordId.toUpperCase(), name: 'x' }));
    expect(update.recordId).to.equal(recordId);
    const del = commandSchema.parse({ type: 'DeleteRecord', mutationId: mutationId.toUpperCase(), recordId: recordId.toUpperCase() });
    expect((del as { recordId: string }).recordId).to.equal(recordId);
    expect(del.mutationId).to.equal(mutationId);
  });

  it('refuses an empty (or blank) name and trims a valid one', function () {
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ name: '' })))).to.deep.equal(['name: must not be empty']);
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ name: '   ' })))).to.deep.equal(['name: must not be empty']);
    expect(createRecordSchema.parse(rawCreate({ name: '  GitHub  ' })).name).to.equal('GitHub');
    expect(updateRecordSchema.safeParse(rawUpdate({ name: '' })).success).to.equal(false);
  });

  it(`refuses a name longer than ${LIMITS.recordNameMax} characters`, function () {
    expect(createRecordSchema.safeParse(rawCreate({ name: 'n'.repeat(LIMITS.recordNameMax) })).success).to.equal(true);
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ name: 'n'.repeat(LIMITS.recordNameMax + 1) })))).to.deep.equal([
      `name: must be at most ${LIMITS.recordNameMax} characters`,
    ]);
    expect(updateRecordSchema.safeParse(rawUpdate({ name: 'n'.repeat(LIMITS.recordNameMax + 1) })).success).to.equal(false);
  });

  it('refuses an unknown kind', function () {
    expect(createRecordSchema.safeParse(rawCreate({ kind: 'password' })).success).to.equal(false);
    expect(updateRecordSchema.safeParse(rawUpdate({ kind: 'LOGIN' })).success).to.equal(false);
  });

  it('refuses duplicate field names (also after trimming), in create and update', function () {
    const duplicate = [field('user'), field('pass'), field('user', 'other')];
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ fields: duplicate })))).to.deep.equal(['fields.2.name: duplicate field name "user"']);
    expect(createRecordSchema.safeParse(rawCreate({ fields: [field('user'), field('  user ')] })).success).to.equal(false);
    expect(issuesOf(updateRecordSchema.safeParse(rawUpdate({ setFields: duplicate })))).to.deep.equal([
      'setFields.2.name: duplicate field name "user"',
    ]);
  });

  it('refuses an empty or too long field name', function () {
    expect(createRecordSchema.safeParse(rawCreate({ fields: [field('')] })).success).to.equal(false);
    expect(createRecordSchema.safeParse(rawCreate({ fields: [field('x'.repeat(LIMITS.fieldNameMax + 1))] })).success).to.equal(false);
    expect(createRecordSchema.safeParse(rawCreate({ fields: [field('x'.repeat(LIMITS.fieldNameMax))] })).success).to.equal(true);
    expect(updateRecordSchema.safeParse(rawUpdate({ removeFields: [''] })).success).to.equal(false);
  });

  it(`refuses more than ${LIMITS.fieldCountMax} fields or removals`, function () {
    expect(createRecordSchema.safeParse(rawCreate({ fields: fieldsNamed(LIMITS.fieldCountMax) })).success).to.equal(true);
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ fields: fieldsNamed(LIMITS.fieldCountMax + 1) })))).to.deep.equal([
      `fields: at most ${LIMITS.fieldCountMax} fields`,
    ]);
    expect(updateRecordSchema.safeParse(rawUpdate({ setFields: fieldsNamed(LIMITS.fieldCountMax + 1) })).success).to.equal(false);
    const removals = fieldsNamed(LIMITS.fieldCountMax + 1).map((f) => f.name);
    expect(updateRecordSchema.safeParse(rawUpdate({ removeFields: removals })).success).to.equal(false);
    expect(updateRecordSchema.safeParse(rawUpdate({ removeFields: removals.slice(1) })).success).to.equal(true);
  });

  it(`refuses a field value longer than ${LIMITS.fieldValueMax} characters`, function () {
    expect(createRecordSchema.safeParse(rawCreate({ fields: [field('blob', 'v'.repeat(LIMITS.fieldValueMax))] })).success).to.equal(true);
    expect(issuesOf(createRecordSchema.safeParse(rawCreate({ fields: [field('blob', 'v'.repeat(LIMITS.fieldValueMax + 1))] })))).to.deep.equal([
      `fields.0.value: must be at most ${LIMITS.fieldValueMax} characters`,
    ]);
    expect(updateRecordSchema.safeParse(rawUpdate({ setFields: [field('blob', 'v'.repeat(LIMITS.fieldValueMax + 1))] })).success).to.equal(false);
  });

  it('refuses an update that changes nothing, accepts one that changes any one thing', function () {
    expect(issuesOf(updateRecordSchema.safeParse(rawUpdate()))).to.deep.equal([': an update must change something']);
    expect(commandSchema.safeParse(rawUpdate()).success).to.equal(false);
    expect(updateRecordSchema.safeParse(rawUpdate({ name: 'n' })).success).to.equal(true);
    expect(updateRecordSchema.safeParse(rawUpdate({ kind: 'note' })).success).to.equal(true);
    expect(updateRecordSchema.safeParse(rawUpdate({ setFields: [field('a')] })).success).to.equal(true);
    expect(updateRecordSchema.safeParse(rawUpdate({ removeFields: ['a'] })).success).to.equal(true);
  });

  it('refuses a field without the sensitive flag', function () {
    expect(createRecordSchema.safeParse(rawCreate({ fields: [{ name: 'a', value: 'b' }] })).success).to.equal(false);
  });
});

describe('domain: toVaultEvent', function () {
  const recordId = randomUUID();
  const metadata = { mutationId: randomUUID(), recordId, clientId: 'phone', at: T0 };

  it('checks and types a stored event', function () {
    const raw = { id: metadata.mutationId, type: 'RecordCreated', version: 3, data: { recordId, kind: 'note', name: 'Diary', fields: [field('text')] }, metadata };
    expect(toVaultEvent(raw)).to.deep.equal({
      type: 'RecordCreated',
      data: { recordId, kind: 'note', name: 'Diary', fields: [field('text')] },
      id: metadata.mutationId,
      version: 3,
      metadata,
    });
    const upd = toVaultEvent({ id: randomUUID(), type: 'RecordUpdated', version: 4, data: { recordId, setFields: [], removeFields: ['text'] }, metadata });
    expect(upd.data).to.deep.equal({ recordId, setFields: [], removeFields: ['text'] });
    expect(toVaultEvent({ id: randomUUID(), type: 'RecordDeleted', version: 5, data: { recordId }, metadata }).type).to.equal('RecordDeleted');
  });

  it('rejects an unknown event type', function () {
    expect(() => toVaultEvent({ id: randomUUID(), type: 'RecordArchived', version: 1, data: { recordId }, metadata })).to.throw(
      /unknown event type "RecordArchived"/,
    );
    // not fooled by properties every object has
    expect(() => toVaultEvent({ id: randomUUID(), type: 'toString', version: 1, data: { recordId }, metadata })).to.throw();
  });

  it('rejects data that does not match the event type', function () {
    const bad = [
      { type: 'RecordCreated', data: { recordId, kind: 'note', name: 'x' } }, // no fields
      { type: 'RecordCreated', data: { recordId: 'nope', kind: 'note', name: 'x', fields: [] } },
      { type: 'RecordCreated', data: { recordId, kind: 'bogus', name: 'x', fields: [] } },
      { type: 'RecordUpdated', data: { recordId, setFields: [field('a'), field('a')], removeFields: [] } },
      { type: 'RecordUpdated', data: { recordId } },
      { type: 'RecordDeleted', data: {} },
      { type: 'RecordDeleted', data: null },
    ];
    for (const { type, data } of bad) {
      expect(() => toVaultEvent({ id: randomUUID(), type, version: 1, data, metadata }), `${type} ${JSON.stringify(data)}`).to.throw(ZodError);
    }
  });

  it('rejects bad metadata', function () {
    const data = { recordId };
    for (const bad of [{}, { ...metadata, at: -1 }, { ...metadata, at: 1.5 }, { ...metadata, clientId: undefined }, null]) {
      expect(() => toVaultEvent({ id: randomUUID(), type: 'RecordDeleted', version: 1, data, metadata: bad }), JSON.stringify(bad)).to.throw(ZodError);
    }
  });
});
