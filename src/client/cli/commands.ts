import { randomUUID } from 'node:crypto';
import { recordKindSchema, type Field, type RecordKind } from '../../domain/record.js';
import type { Mutation, Record as WireRecord } from '../../gen/keeper/v1/vault.js';
import { CliError, EXIT } from '../../cli/exit-codes.js';
import type { KeeperClient } from '../keeper-client.js';
import { createMutation, deleteMutation, updateMutation } from '../mutations.js';
import { formatRecord, formatTime, maskField, table } from './format.js';
import { promptLine, promptSecret } from './prompt.js';

export type Out = (text: string) => void;

const MAX_CONFLICT_RETRIES = 5;

export async function registerCommand(client: KeeperClient, options: { login?: string }, out: Out): Promise<void> {
  const login = options.login ?? (await promptLine('login'));
  const password = await promptSecret('password');
  if (process.stdin.isTTY && (await promptSecret('password again')) !== password) {
    throw new CliError('the two passwords differ; nothing was registered', EXIT.usage);
  }
  const session = await client.register(login, password);
  out(`registered and logged in as ${session.login}`);
}

export async function loginCommand(client: KeeperClient, options: { login?: string }, out: Out): Promise<void> {
  const login = options.login ?? (await promptLine('login'));
  const password = await promptSecret('password');
  const session = await client.login(login, password);
  out(`logged in as ${session.login}`);
}

export async function logoutCommand(client: KeeperClient, out: Out): Promise<void> {
  out((await client.logout()) ? 'logged out' : 'not logged in');
}

export async function statusCommand(client: KeeperClient, server: string, out: Out): Promise<void> {
  const session = await client.currentSession();
  const status = await client.status();
  out(`server   ${server}`);
  out(`user     ${session?.login ?? '-'}`);
  out(`version  ${status.version}`);
  out(`changed  ${formatTime(status.lastModifiedAt)}`);
}

export async function listCommand(client: KeeperClient, options: { json?: boolean }, out: Out): Promise<void> {
  const { records, version } = await client.list();
  if (options.json) {
    out(JSON.stringify({ version, records: records.map((r) => ({ ...r, fields: r.fields.map((f) => ({ ...f, value: maskField(f, false) })) })) }, null, 2));
    return;
  }
  if (records.length === 0) {
    out(`no records (version ${version})`);
    return;
  }
  out(table(['ID', 'KIND', 'NAME', 'UPDATED'], records.map((r) => [r.id.slice(0, 8), r.kind, r.name, formatTime(r.updatedAt)])));
  out(`${records.length} record${records.length === 1 ? '' : 's'}, version ${version}`);
}

export async function showCommand(client: KeeperClient, ref: string, options: { reveal?: boolean; json?: boolean }, out: Out): Promise<void> {
  const record = await resolveRecord(client, ref);
  if (options.json) {
    out(JSON.stringify({ ...record, fields: record.fields.map((f) => ({ ...f, value: maskField(f, Boolean(options.reveal)) })) }, null, 2));
  } else out(formatRecord(record, Boolean(options.reveal)));
}

export interface FieldOptions {
  field?: string[];
  secret?: string[];
}

export async function addCommand(client: KeeperClient, name: string, options: FieldOptions & { kind?: string }, clientId: string, out: Out): Promise<void> {
  const kind = parseKind(options.kind ?? 'custom');
  const fields = await collectFields(options);
  const recordId = randomUUID();
  await pushWithRetry(client, clientId, createMutation({ recordId, kind, name, fields }));
  out(`added ${recordId} (${name})`);
}

export async function editCommand(
  client: KeeperClient,
  ref: string,
  options: FieldOptions & { kind?: string; name?: string; remove?: string[] },
  clientId: string,
  out: Out,
): Promise<void> {
  const record = await resolveRecord(client, ref);
  const setFields = await collectFields(options);
  const removeFields = options.remove ?? [];
  if (options.name === undefined && options.kind === undefined && setFields.length === 0 && removeFields.length === 0) {
    throw new CliError('nothing to change: give --name, --kind, --field, --secret or --remove', EXIT.usage);
  }
  const unknown = removeFields.filter((name) => !record.fields.some((f) => f.name === name));
  if (unknown.length > 0) throw new CliError(`record "${record.name}" has no field ${unknown.map((n) => `"${n}"`).join(', ')}`, EXIT.notFound);
  const changes: Parameters<typeof updateMutation>[1] = { setFields, removeFields };
  if (options.name !== undefined) changes.name = options.name;
  if (options.kind !== undefined) changes.kind = parseKind(options.kind);
  await pushWithRetry(client, clientId, updateMutation(record.id, changes));
  out(`updated ${record.id} (${options.name ?? record.name})`);
}

export async function removeCommand(client: KeeperClient, ref: string, clientId: string, out: Out): Promise<void> {
  const record = await resolveRecord(client, ref);
  await pushWithRetry(client, clientId, deleteMutation(record.id));
  out(`deleted ${record.id} (${record.name})`);
}

/**
 * Pushes one mutation at the server's current version; when another client got there first it
 * tries again at the new version with the same mutation id, so nothing is applied twice.
 */
async function pushWithRetry(client: KeeperClient, clientId: string, mutation: Mutation): Promise<number> {
  let { version } = await client.status();
  for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
    const response = await client.push({ expectedVersion: version, clientId, mutations: [mutation] });
    const result = response.result;
    if (result?.$case === 'accepted') return result.value.version;
    if (result?.$case !== 'conflict') throw new CliError('the server gave an empty answer to a push');
    version = result.value.currentVersion;
  }
  throw new CliError('the vault kept changing under this edit; try again', EXIT.conflict);
}

/** A record by full id, unique id prefix, or exact name (case-insensitive). */
async function resolveRecord(client: KeeperClient, ref: string): Promise<WireRecord> {
  const { records } = await client.list();
  const needle = ref.toLowerCase();
  const byId = records.filter((r) => r.id === needle || (needle.length >= 4 && r.id.startsWith(needle)));
  const matches = byId.length > 0 ? byId : records.filter((r) => r.name.toLowerCase() === needle);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no record matches "${ref}" (give an id, an id prefix of 4+ characters, or the exact name)`, EXIT.notFound);
  throw new CliError(`"${ref}" matches ${matches.length} records (${matches.map((r) => r.id.slice(0, 8)).join(', ')}); give more of the id`, EXIT.usage);
}

function parseKind(kind: string): RecordKind {
  const parsed = recordKindSchema.safeParse(kind);
  if (!parsed.success) throw new CliError(`--kind ${kind}: must be one of login, card, note, custom`, EXIT.usage);
  return parsed.data;
}

/** `--field name=value` and `--secret name=value`; a secret without `=value` is asked for unseen. */
async function collectFields(options: FieldOptions): Promise<Field[]> {
  const fields: Field[] = [];
  for (const spec of options.field ?? []) {
    const index = spec.indexOf('=');
    if (index <= 0) throw new CliError(`--field ${spec}: write it as name=value`, EXIT.usage);
    fields.push({ name: spec.slice(0, index), value: spec.slice(index + 1), sensitive: false });
  }
  for (const spec of options.secret ?? []) {
    const index = spec.indexOf('=');
    if (index === 0) throw new CliError(`--secret ${spec}: write it as name or name=value`, EXIT.usage);
    const name = index > 0 ? spec.slice(0, index) : spec;
    const value = index > 0 ? spec.slice(index + 1) : await promptSecret(`value of ${name}`);
    fields.push({ name, value, sensitive: true });
  }
  const names = new Set<string>();
  for (const field of fields) {
    if (names.has(field.name)) throw new CliError(`field "${field.name}" is given twice`, EXIT.usage);
    names.add(field.name);
  }
  return fields;
}
