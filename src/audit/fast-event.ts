import { toVaultEvent, type VaultEvent } from '../domain/events.js';
import { LIMITS, RECORD_KINDS } from '../domain/limits.js';

/**
 * `toVaultEvent` for replaying millions of stored events. Events are validated by the domain's
 * zod schemas on the way in, so what the log holds is almost always already in their canonical
 * form (lower-case ids, trimmed names, no extra keys). `fastVaultEvent` recognises exactly that
 * form with plain checks (several times faster than the schemas) and returns null for anything
 * else, which then goes through the schemas: they normalise it or say what is wrong.
 *
 * The one rule: whatever the fast path accepts, the schemas accept unchanged (the same object).
 * Every check here is as strict as or stricter than the schema's; an unknown key, type or a value
 * near a limit falls back. test/audit/fast-event.test.ts holds the two against each other on
 * valid events and thousands of damaged ones; a schema that gains a rule must gain it here (or
 * the key must fall back).
 */
export function readVaultEvent(raw: { id: string; type: string; version: number; data: unknown; metadata: unknown }): VaultEvent {
  return fastVaultEvent(raw) ?? toVaultEvent(raw);
}

export function fastVaultEvent(raw: { id: string; type: string; version: number; data: unknown; metadata: unknown }): VaultEvent | null {
  const metadata = raw.metadata;
  if (!isPlainObject(metadata) || !onlyKeys(metadata, METADATA_KEYS)) return null;
  if (typeof metadata.mutationId !== 'string' || typeof metadata.recordId !== 'string' || typeof metadata.clientId !== 'string') return null;
  const at = metadata.at;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) return null;
  const data = raw.data;
  if (!isPlainObject(data)) return null;
  let ok: boolean;
  switch (raw.type) {
    case 'RecordCreated':
      ok =
        onlyKeys(data, CREATED_KEYS) &&
        isId(data.recordId) &&
        isKind(data.kind) &&
        isName(data.name) &&
        isFieldList(data.fields) &&
        (data.conflictOf === undefined || isId(data.conflictOf));
      break;
    case 'RecordUpdated':
      ok =
        onlyKeys(data, UPDATED_KEYS) &&
        isId(data.recordId) &&
        (data.name === undefined || isName(data.name)) &&
        (data.kind === undefined || isKind(data.kind)) &&
        isFieldList(data.setFields) &&
        isFieldNameList(data.removeFields);
      break;
    case 'RecordDeleted':
      ok = onlyKeys(data, DELETED_KEYS) && isId(data.recordId);
      break;
    case 'RecordRestored':
      ok =
        onlyKeys(data, RESTORED_KEYS) &&
        isId(data.recordId) &&
        isKind(data.kind) &&
        isName(data.name) &&
        isFieldList(data.fields) &&
        typeof data.fromVersion === 'number' &&
        Number.isSafeInteger(data.fromVersion) &&
        data.fromVersion > 0;
      break;
    case 'VaultKeySet':
      ok =
        onlyKeys(data, KEY_SET_KEYS) &&
        isId(data.keyId) &&
        typeof data.envelope === 'string' &&
        data.envelope.length >= 1 &&
        data.envelope.length <= LIMITS.keyEnvelopeMax;
      break;
    default:
      return null;
  }
  if (!ok) return null;
  return { type: raw.type, data, id: raw.id, version: raw.version, metadata } as unknown as VaultEvent;
}

const METADATA_KEYS = new Set(['mutationId', 'recordId', 'clientId', 'at']);
const CREATED_KEYS = new Set(['recordId', 'kind', 'name', 'fields', 'conflictOf']);
const UPDATED_KEYS = new Set(['recordId', 'name', 'kind', 'setFields', 'removeFields']);
const DELETED_KEYS = new Set(['recordId']);
const RESTORED_KEYS = new Set(['recordId', 'kind', 'name', 'fields', 'fromVersion']);
const KEY_SET_KEYS = new Set(['keyId', 'envelope']);
const FIELD_KEYS = new Set(['name', 'value', 'sensitive']);
const KINDS = new Set<unknown>(RECORD_KINDS);
/** zod's UUID pattern, lower case only (the schema lower-cases; an upper-case id falls back). */
const LOWER_UUID = /^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function onlyKeys(value: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

function isId(value: unknown): boolean {
  return typeof value === 'string' && value.length === 36 && LOWER_UUID.test(value);
}

function isKind(value: unknown): boolean {
  return KINDS.has(value);
}

/** Trimmed, 1 to recordNameMax characters (longer sealed names fall back to the schema). */
function isName(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= LIMITS.recordNameMax && value.trim() === value;
}

function isFieldName(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= LIMITS.fieldNameMax && value.trim() === value;
}

function isFieldNameList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > LIMITS.fieldCountMax) return false;
  for (const name of value) if (!isFieldName(name)) return false;
  return true;
}

function isFieldList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > LIMITS.fieldCountMax) return false;
  const seen = new Set<string>();
  for (const field of value) {
    if (!isPlainObject(field) || !onlyKeys(field, FIELD_KEYS)) return false;
    const name = field.name;
    if (!isFieldName(name) || seen.has(name as string)) return false;
    seen.add(name as string);
    if (typeof field.value !== 'string' || field.value.length > LIMITS.fieldValueMax) return false;
    if (typeof field.sensitive !== 'boolean') return false;
  }
  return true;
}
