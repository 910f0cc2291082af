import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { toVaultEvent } from '../../src/domain/events.js';
import { fastVaultEvent, readVaultEvent } from '../../src/audit/fast-event.js';
import { seededRandom } from '../../src/lib/seeded-random.js';

/**
 * The replay's fast path may only accept what the domain's schemas accept unchanged. Checked on
 * valid events of every type (which must take the fast path) and on thousands of damaged copies
 * (which either fall back to the schemas or get the same answer).
 */

type Raw = { id: string; type: string; version: number; data: unknown; metadata: unknown };

const id = () => randomUUID();
const meta = (recordId = id()) => ({ mutationId: id(), recordId, clientId: 'laptop-1', at: 1_767_000_000_000 });
const fields = () => [
  { name: 'user', value: 'alice@example.org', sensitive: false },
  { name: 'password', value: 'kpr1.c2VhbGVk', sensitive: true },
  { name: 'note', value: '', sensitive: false },
];

function valid(): Raw[] {
  const recordId = id();
  return [
    { id: id(), type: 'RecordCreated', version: 1, data: { recordId, kind: 'login', name: 'Mail', fields: fields() }, metadata: meta(recordId) },
    { id: id(), type: 'RecordCreated', version: 2, data: { recordId: id(), kind: 'note', name: 'Copy', fields: [], conflictOf: recordId }, metadata: meta() },
    { id: id(), type: 'RecordUpdated', version: 3, data: { recordId, setFields: fields().slice(1), removeFields: ['user'] }, metadata: meta(recordId) },
    { id: id(), type: 'RecordUpdated', version: 4, data: { recordId, name: 'N'.repeat(200), kind: 'card', setFields: [], removeFields: [] }, metadata: meta(recordId) },
    { id: id(), type: 'RecordDeleted', version: 5, data: { recordId }, metadata: meta(recordId) },
    { id: id(), type: 'RecordRestored', version: 6, data: { recordId, kind: 'login', name: 'Mail', fields: fields(), fromVersion: 3 }, metadata: meta(recordId) },
    { id: id(), type: 'VaultKeySet', version: 7, data: { keyId: id(), envelope: '{"kdf":"scrypt"}' }, metadata: { ...meta(), recordId: '' } },
  ];
}


const ODD_VALUES: unknown[] = [
  undefined, null, 0, -1, 1.5, 2 ** 53, Number.NaN, '', ' ', ' padded ', 'x'.repeat(101), 'x'.repeat(201), 'x'.repeat(401),
  `kpr1.${'x'.repeat(300)}`, 'y'.repeat(65_537), true, 'true', [], {}, ['a', 'a'], 'login', 'spaceship',
  '6F9619FF-8B86-4011-B42D-00C04FC964FF', '6f9619ff-8b86-d011-b42d-00c04fc964ff', '00000000-0000-0000-0000-000000000000',
  [{ name: 'a', value: 'b', sensitive: false }, { name: 'a', value: 'c', sensitive: true }],
  [{ name: ' a', value: 'b', sensitive: false }],
  [{ name: 'a', value: 'b', sensitive: 'no' }],
  [{ name: 'a', value: 'b', sensitive: false, extra: 1 }],
  [{ name: 'a', value: 7, sensitive: false }],
  Array.from({ length: 101 }, (_, i) => ({ name: `f${i}`, value: '', sensitive: false })),
  Array.from({ length: 101 }, (_, i) => `f${i}`),
];

/** Replaces, adds or removes one value somewhere inside `value`. */
function damage(value: unknown, random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  if (depth > 0 && random() < 0.3) return pick(ODD_VALUES);
  if (Array.isArray(value)) {
    if (value.length === 0 || random() < 0.2) return [...value, pick(ODD_VALUES)];
    const copy = [...value];
    const index = Math.floor(random() * copy.length);
    copy[index] = damage(copy[index], random, depth + 1);
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const roll = random();
    if (roll < 0.1) copy[pick(['extra', 'conflictOf', 'name', 'kind', 'fromVersion', 'envelope'])] = pick(ODD_VALUES);
    else if (roll < 0.2 && keys.length > 0) delete copy[pick(keys)];
    else if (keys.length > 0) {
      const key = pick(keys);
      copy[key] = damage(copy[key], random, depth + 1);
    }
    return copy;
  }
  return pick(ODD_VALUES);
}

function schemaAnswer(raw: Raw): { ok: true; event: unknown } | { ok: false } {
  try {
    return { ok: true, event: toVaultEvent(raw) };
  } catch {
    return { ok: false };
  }
}

describe('the replay fast path for stored events', () => {
  it('takes every valid event of every type, giving what the schemas give', () => {
    for (const raw of valid()) {
      const fast = fastVaultEvent(raw);
      expect(fast, raw.type).to.not.equal(null);
      expect(fast).to.deep.equal(toVaultEvent(raw));
    }
  });

  it('accepts nothing the schemas refuse or would change (thousands of damaged events)', () => {
    const random = seededRandom(20260110);
    let fastTaken = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = valid()[i % 7]!;
      const raw: Raw =
        random() < 0.8
          ? { ...base, data: damage(base.data, random) }
          : { ...base, ...(random() < 0.5 ? { metadata: damage(base.metadata, random) } : { type: random() < 0.5 ? 'RecordUpdated' : 'Unknown' }) };
      const fast = fastVaultEvent(raw);
      const schema = schemaAnswer(raw);
      if (!schema.ok) refused++;
      if (fast === null) continue;
      fastTaken++;
      expect(schema.ok, `fast path took what the schemas refuse: ${JSON.stringify(raw).slice(0, 400)}`).to.equal(true);
      expect(fast, JSON.stringify(raw).slice(0, 400)).to.deep.equal((schema as { event: unknown }).event);
    }
    // The corpus exercises both sides.
    expect(fastTaken).to.be.greaterThan(1000);
    expect(refused).to.be.greaterThan(5000);
  });

  it('falls back to the schemas for a form they normalise, and to their message for a bad one', () => {
    const [created] = valid();
    const upper = { ...created!, data: { ...(created!.data as object), recordId: '6F9619FF-8B86-4011-B42D-00C04FC964FF', name: '  Mail  ' } };
    expect(fastVaultEvent(upper)).to.equal(null);
    const event = readVaultEvent(upper);
    expect(event.type === 'RecordCreated' && [event.data.recordId, event.data.name]).to.deep.equal(['6f9619ff-8b86-4011-b42d-00c04fc964ff', 'Mail']);
    expect(() => readVaultEvent({ ...created!, data: { ...(created!.data as object), kind: 'spaceship' } })).to.throw(/kind/);
  });
});
