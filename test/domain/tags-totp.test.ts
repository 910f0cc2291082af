import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  commandSchema,
  decide,
  evolve,
  fieldKindOf,
  hasTag,
  isTotpValue,
  normaliseField,
  normaliseTags,
  rebase,
  storedCommandSchema,
  toVaultEvent,
  VaultState,
  LIMITS,
  type RecordEvent,
  type RecordEventData,
  type RecordState,
  type VaultCommand,
  type VaultEvent,
} from '../../src/domain/index.js';

/** Tags, favourites and one-time-code fields through the domain: commands, events, evolve, rebase, and old events. */

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const SECRET = 'JBSWY3DPEHPK3PXP';

function asEvent(data: RecordEventData, version: number, at = T0 + version): RecordEvent {
  const id = randomUUID();
  return { ...data, id, version, metadata: { mutationId: id, recordId: data.data.recordId, clientId: 'test', at } } as RecordEvent;
}

function createCommand(extra: Partial<Extract<VaultCommand, { type: 'CreateRecord' }>> = {}): Extract<VaultCommand, { type: 'CreateRecord' }> {
  return { type: 'CreateRecord', mutationId: randomUUID(), recordId: randomUUID(), kind: 'login', name: 'Mail', fields: [], ...extra };
}

describe('domain: tags and favourites', function () {
  it('a create carries its tags and star into the event and the record', function () {
    const command = commandSchema.parse(createCommand({ tags: ['work', 'mail'], favourite: true }));
    const decided = decide(command as Extract<VaultCommand, { type: 'CreateRecord' }>, undefined);
    expect(decided.data).to.deep.include({ tags: ['work', 'mail'], favourite: true });
    const state = evolve(undefined, asEvent(decided, 1));
    expect(state).to.deep.include({ tags: ['work', 'mail'], favourite: true });
  });

  it('a record without tags or star is written exactly as before they existed', function () {
    const decided = decide(createCommand({ tags: [], favourite: false }), undefined);
    expect(decided.data).to.not.have.any.keys('tags', 'favourite');
  });

  it('an event written before tags existed reads as a record with none, not starred', function () {
    const recordId = randomUUID();
    const old = toVaultEvent({
      id: randomUUID(),
      type: 'RecordCreated',
      version: 1,
      data: { recordId, kind: 'note', name: 'Old', fields: [{ name: 'text', value: 'hi', sensitive: false }] },
      metadata: { mutationId: randomUUID(), recordId, clientId: 'old', at: T0 },
    });
    const state = new VaultState().applyAll([old]);
    expect(state.live()[0]).to.deep.include({ tags: [], favourite: false });
    expect(state.live()[0]!.fields[0]).to.not.have.property('kind');
    // An old restore (no tags in it) puts the record back with none.
    const restored = toVaultEvent({
      id: randomUUID(),
      type: 'RecordRestored',
      version: 2,
      data: { recordId, kind: 'note', name: 'Old', fields: [], fromVersion: 1 },
      metadata: { mutationId: randomUUID(), recordId, clientId: 'old', at: T0 + 1 },
    });
    expect(state.apply(restored as VaultEvent)).to.equal(undefined);
    expect(state.get(recordId)).to.deep.include({ tags: [], favourite: false });
  });

  it('an update replaces the whole tag list and sets or clears the star; other parts stay', function () {
    const created = evolve(undefined, asEvent(decide(createCommand({ tags: ['a', 'b'] }), undefined), 1))!;
    const update = commandSchema.parse({ type: 'UpdateRecord', mutationId: randomUUID(), recordId: created.id, setFields: [], removeFields: [], tags: ['c'] });
    const afterTags = evolve(created, asEvent(decide(update as Extract<VaultCommand, { type: 'UpdateRecord' }>, created), 2))!;
    expect(afterTags).to.deep.include({ tags: ['c'], favourite: false, name: 'Mail' });
    const star = commandSchema.parse({ type: 'UpdateRecord', mutationId: randomUUID(), recordId: created.id, setFields: [], removeFields: [], favourite: true });
    const starred = evolve(afterTags, asEvent(decide(star as Extract<VaultCommand, { type: 'UpdateRecord' }>, afterTags), 3))!;
    expect(starred).to.deep.include({ tags: ['c'], favourite: true });
    const untagged = commandSchema.parse({ type: 'UpdateRecord', mutationId: randomUUID(), recordId: created.id, setFields: [], removeFields: [], tags: [] });
    expect(evolve(starred, asEvent(decide(untagged as Extract<VaultCommand, { type: 'UpdateRecord' }>, starred), 4))).to.deep.include({ tags: [], favourite: true });
  });

  it('an update that changes only tags or only the star changes something; one with neither is refused', function () {
    const base = { type: 'UpdateRecord', mutationId: randomUUID(), recordId: randomUUID(), setFields: [], removeFields: [] };
    expect(commandSchema.safeParse({ ...base, tags: ['x'] }).success).to.equal(true);
    expect(commandSchema.safeParse({ ...base, favourite: false }).success).to.equal(true);
    const none = commandSchema.safeParse(base);
    expect(none.success).to.equal(false);
    expect(none.error?.issues[0]?.message).to.equal('an update must change something');
  });

  it('a restore brings back the tags and star of the version it restores', function () {
    const created = evolve(undefined, asEvent(decide(createCommand(), undefined), 1))!;
    const restore = commandSchema.parse({
      type: 'RestoreRecord',
      mutationId: randomUUID(),
      recordId: created.id,
      kind: 'login',
      name: 'Mail',
      fields: [],
      fromVersion: 1,
      tags: ['old'],
      favourite: true,
    });
    const decided = decide(restore as Extract<VaultCommand, { type: 'RestoreRecord' }>, created);
    expect(decided.data).to.deep.include({ tags: ['old'], favourite: true });
    expect(evolve(created, asEvent(decided, 2))).to.deep.include({ tags: ['old'], favourite: true });
  });

  it('refuses bad tags with a sentence naming the tag', function () {
    const issues = (tags: unknown) => {
      const parsed = commandSchema.safeParse(createCommand({ tags: tags as string[] }));
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues(['a', 'a'])).to.deep.equal(['tags.1: duplicate tag "a"']);
    expect(issues(['   '])).to.deep.equal(['tags.0: must not be empty']);
    expect(issues(['x'.repeat(LIMITS.tagMax + 1)])).to.deep.equal([`tags.0: must be at most ${LIMITS.tagMax} characters`]);
    expect(issues(['bad\u0000tag'])[0]).to.match(/^tags\.0: must not contain control characters/);
    expect(issues(Array.from({ length: LIMITS.tagsPerRecordMax + 1 }, (_, i) => `t${i}`))).to.deep.equal([`tags: at most ${LIMITS.tagsPerRecordMax} tags`]);
    // A sealed tag is longer than a plain one may be.
    expect(issues([`kpr1.${'A'.repeat(200)}`])).to.deep.equal([]);
    // What the log holds is read with the looser rules (a stored command with an old tag still loads).
    expect(storedCommandSchema.safeParse(createCommand({ tags: ['line\nbreak'] })).success).to.equal(true);
  });

  it('normaliseTags trims, drops empties and repeats in any case, keeping the first spelling; hasTag ignores case', function () {
    expect(normaliseTags([' Work ', 'work', '', 'Home', 'WORK', 'home '])).to.deep.equal(['Work', 'Home']);
    expect(hasTag(['Work', 'Home'], 'work')).to.equal(true);
    expect(hasTag(['Work'], 'wor')).to.equal(false);
  });

  it('rebase: a local tag edit over a server tag edit loses to it, and the copy keeps the local tags and star', function () {
    const recordId = randomUUID();
    const base: RecordState = { id: recordId, kind: 'login', name: 'Mail', fields: [], tags: ['a'], favourite: false, createdAt: T0, updatedAt: T0, version: 1, deletedAt: null };
    const serverEvent = asEvent({ type: 'RecordUpdated', data: { recordId, setFields: [], removeFields: [], tags: ['server'] } }, 2) as VaultEvent;
    const after = evolve(base, serverEvent as RecordEvent)!;
    const localTags: VaultCommand = { type: 'UpdateRecord', mutationId: randomUUID(), recordId, setFields: [], removeFields: [], tags: ['local'] };
    const localStar: VaultCommand = { type: 'UpdateRecord', mutationId: randomUUID(), recordId, setFields: [], removeFields: [], favourite: true };
    let n = 0;
    const ids = [randomUUID(), randomUUID()];
    const result = rebase({
      pending: [localTags, localStar],
      serverEvents: [serverEvent],
      base: (id) => (id === recordId ? base : undefined),
      server: (id) => (id === recordId ? after : undefined),
      serverKeyId: null,
      newId: () => ids[n++]!,
      now: T0 + 10,
    });
    expect(result.conflicts).to.have.length(1);
    expect(result.conflicts[0]).to.deep.include({ kind: 'edit_lost', parts: ['tags'], copyId: ids[0] });
    const copy = result.pending.find((c) => c.type === 'CreateRecord');
    expect(copy).to.deep.include({ recordId: ids[0], tags: ['local'], favourite: true, conflictOf: recordId });
    // The star did not conflict (the server did not change it): it still goes.
    expect(result.pending.some((c) => c.type === 'UpdateRecord' && c.favourite === true && c.tags === undefined)).to.equal(true);
  });
});

describe('domain: one-time-code fields', function () {
  const totp = (value: string, sensitive = true) => ({ name: 'otp', value, sensitive, kind: 'totp' as const });
  const issues = (fields: unknown[]) => {
    const parsed = commandSchema.safeParse(createCommand({ fields: fields as never }));
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('holds an otpauth://totp URI, a base32 secret or a sealed value, and is always sensitive', function () {
    expect(issues([totp(SECRET)])).to.deep.equal([]);
    expect(issues([totp(`otpauth://totp/Example:alice?secret=${SECRET}&issuer=Example`)])).to.deep.equal([]);
    expect(issues([totp(`kpr1.${'A'.repeat(60)}`)])).to.deep.equal([]);
    expect(issues([totp(SECRET, false)])).to.deep.equal(['fields.0.sensitive: one-time-code field "otp" must be sensitive']);
    expect(issues([totp('not a secret')])[0]).to.match(/^fields\.0\.value: one-time-code field "otp" must hold an otpauth:\/\/totp\/ URI or a base32 secret/);
    expect(issues([totp('otpauth://hotp/x?secret=AAAA')])).to.have.length(1);
    expect(issues([{ name: 'x', value: 'y', sensitive: false, kind: 'qr' }])[0]).to.match(/^fields\.0\.kind: must be one of text, totp/);
  });

  it('a field without a kind is text; the kind travels through events', function () {
    expect(fieldKindOf({})).to.equal('text');
    const decided = decide(createCommand({ fields: [totp(SECRET)] }), undefined);
    const state = evolve(undefined, asEvent(decided, 1))!;
    expect(fieldKindOf(state.fields[0]!)).to.equal('totp');
  });

  it('normaliseField makes a secret as services print it canonical and sensitive, and drops the text kind', function () {
    expect(normaliseField({ name: 'otp', value: ' jbsw y3dp-ehpk 3pxp ', sensitive: false, kind: 'totp' })).to.deep.equal({ name: 'otp', value: SECRET, sensitive: true, kind: 'totp' });
    const uri = `otpauth://totp/X?secret=${SECRET.toLowerCase()}`;
    expect(normaliseField({ name: 'otp', value: uri, sensitive: true, kind: 'totp' }).value).to.equal(uri);
    expect(normaliseField({ name: 'a', value: 'b', sensitive: false, kind: 'text' })).to.deep.equal({ name: 'a', value: 'b', sensitive: false });
    expect(isTotpValue(SECRET.slice(0, 15))).to.equal(false);
  });
});
