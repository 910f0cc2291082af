import { recordKindSchema, type Field, type RecordKind } from '../../domain/record.js';
import type { ConflictNotice } from '../../domain/rebase.js';
import { CliError, EXIT } from '../../cli/exit-codes.js';
import { isServiceError, status as grpcStatus } from '../grpc-channel.js';
import { isServerBusy } from '../retry.js';
import type { KeeperClient } from '../keeper-client.js';
import { NotLoggedIn } from '../keeper-client.js';
import { SyncEngine, type SyncReport } from '../sync/sync-engine.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import { describeConflict } from '../sync/conflict-notices.js';
import { formatRecord, formatTime, maskField, table } from './format.js';
import { checkSecretWord } from '../secret-word-policy.js';
import { promptLine, promptSecret } from './prompt.js';
import { escapeControls, jsonText } from '../terminal-text.js';
import { forgetUnlockedKey, loadUnlockedKey, saveUnlockedKey } from './vault-session.js';

export type Out = (text: string) => void;

export interface Context {
  client: KeeperClient;
  clientId: string;
  server: string;
  home: string;
  /** KEEPER_SESSION, from `keeper unlock`. */
  sessionSecret?: string | undefined;
  out: Out;
  warn: Out;
}

// ---- account -------------------------------------------------------------------------------

export async function registerCommand(ctx: Context, options: { login?: string }): Promise<void> {
  const login = options.login ?? (await promptLine('login'));
  const password = await promptSecret('password');
  if (process.stdin.isTTY && (await promptSecret('password again')) !== password) {
    throw new CliError('the two passwords differ; nothing was registered', EXIT.usage);
  }
  const session = await ctx.client.register(login, password);
  ctx.out(`registered and logged in as ${session.login}`);
}

export async function loginCommand(ctx: Context, options: { login?: string }): Promise<void> {
  const login = options.login ?? (await promptLine('login'));
  const password = await promptSecret('password');
  const session = await ctx.client.login(login, password);
  ctx.out(`logged in as ${session.login}`);
}

export async function logoutCommand(ctx: Context): Promise<void> {
  const session = await ctx.client.currentSession();
  if (session) await forgetUnlockedKey(ctx.home, ctx.server, session.userId);
  ctx.out((await ctx.client.logout()) ? 'logged out' : 'not logged in');
}

// ---- the replica ---------------------------------------------------------------------------

/**
 * Opens the local replica (asking for the secret word when the vault is encrypted and locked).
 * `askSecret` replaces the plain prompt, for a command that wants to keep the word it was given.
 */
export async function openEngine(ctx: Context, askSecret: () => Promise<string> = () => promptSecret('secret word')): Promise<SyncEngine> {
  const session = await ctx.client.currentSession();
  if (!session) throw new NotLoggedIn();
  const vaultKey = await loadUnlockedKey(ctx.home, ctx.server, session.userId, ctx.sessionSecret);
  const engine = await SyncEngine.open({
    client: ctx.client,
    server: ctx.server,
    home: ctx.home,
    userId: session.userId,
    clientId: ctx.clientId,
    askSecret,
    ...(vaultKey ? { vaultKey } : {}),
  });
  for (const notice of engine.notices) ctx.warn(`keeper: ${notice}`);
  return engine;
}

function isOffline(error: unknown): boolean {
  return isServiceError(error) && (error.code === grpcStatus.UNAVAILABLE || error.code === grpcStatus.DEADLINE_EXCEEDED);
}

/** Syncs, but an unreachable server only means working from the local copy. */
export async function syncIfOnline(ctx: Context, engine: SyncEngine): Promise<SyncReport | undefined> {
  try {
    const report = await engine.sync();
    reportConflicts(ctx, engine, report.conflicts);
    return report;
  } catch (error) {
    if (!isOffline(error)) throw error;
    const why = isServerBusy(error) ? `the server at ${ctx.server} is unavailable for a moment` : `the server at ${ctx.server} cannot be reached`;
    ctx.warn(`keeper: offline (${why}): using the local copy at version ${engine.version}, ${engine.pendingCount} change(s) waiting`);
    return undefined;
  }
}

function reportConflicts(ctx: Context, engine: SyncEngine, conflicts: ConflictNotice[]): void {
  for (const conflict of conflicts) ctx.warn(describeConflict(conflict, escapeControls(displayName(engine, conflict.recordId, conflict.recordName))));
}

function displayName(engine: SyncEngine, recordId: string, fallback: string): string {
  const record = engine.record(recordId);
  return record ? engine.open(record).name : fallback;
}

/** A record by full id, unique id prefix, or exact (decrypted) name, case-insensitive. */
export function resolveRecord(engine: SyncEngine, ref: string): OpenedRecord {
  const records = engine.records().map((r) => engine.open(r));
  const needle = ref.toLowerCase();
  const byId = records.filter((r) => r.id === needle || (needle.length >= 4 && r.id.startsWith(needle)));
  const matches = byId.length > 0 ? byId : records.filter((r) => r.name.toLowerCase() === needle);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no record matches "${ref}" (give an id, an id prefix of 4+ characters, or the exact name)`, EXIT.notFound);
  throw new CliError(`"${ref}" matches ${matches.length} records (${matches.map((r) => r.id.slice(0, 8)).join(', ')}); give more of the id`, EXIT.usage);
}

function label(record: OpenedRecord): string {
  return `${record.name}${record.conflictOf ? ` (conflict copy of ${record.conflictOf.slice(0, 8)})` : ''}`;
}

// ---- reading -------------------------------------------------------------------------------

export async function statusCommand(ctx: Context): Promise<void> {
  const session = await ctx.client.currentSession();
  const engine = await openEngine(ctx);
  let serverLine = 'unreachable';
  try {
    const status = await ctx.client.status();
    serverLine = `version ${status.version}, changed ${formatTime(status.lastModifiedAt)}`;
  } catch (error) {
    if (!isOffline(error)) throw error;
    if (isServerBusy(error)) serverLine = 'unavailable for a moment';
  }
  ctx.out(`server     ${ctx.server} (${serverLine})`);
  ctx.out(`user       ${session?.login ?? '-'}`);
  ctx.out(`local      version ${engine.version}, changed ${formatTime(engine.lastModifiedAt)}, ${engine.pendingCount} change(s) waiting`);
  ctx.out(`encryption ${engine.encrypted ? (engine.unlocked ? 'on, unlocked' : 'on, locked') : 'off'}`);
}

export async function syncCommand(ctx: Context): Promise<void> {
  const engine = await openEngine(ctx);
  const report = await engine.sync();
  reportConflicts(ctx, engine, report.conflicts);
  const what = report.transfer === 'none' ? 'already up to date' : report.transfer === 'snapshot' ? 'loaded a snapshot' : `pulled ${report.pulled} event(s)`;
  ctx.out(`synced: ${what}, pushed ${report.pushed} change(s), version ${report.version}${report.conflicts.length ? `, ${report.conflicts.length} conflict(s)` : ''}`);
}

export async function listCommand(ctx: Context, options: { json?: boolean }): Promise<void> {
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  const records = engine.records().map((r) => engine.open(r));
  if (options.json) {
    ctx.out(jsonText({ version: engine.version, records: records.map((r) => ({ ...r, fields: r.fields.map((f) => ({ ...f, value: maskField(f, false) })) })) }, 2));
    return;
  }
  if (records.length === 0) {
    ctx.out(`no records (version ${engine.version})`);
    return;
  }
  ctx.out(table(['ID', 'KIND', 'NAME', 'UPDATED'], records.map((r) => [r.id.slice(0, 8), r.kind, label(r), formatTime(r.updatedAt)])));
  ctx.out(`${records.length} record${records.length === 1 ? '' : 's'}, version ${engine.version}${engine.pendingCount ? `, ${engine.pendingCount} change(s) waiting` : ''}`);
}

export async function showCommand(ctx: Context, ref: string, options: { reveal?: boolean; json?: boolean }): Promise<void> {
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  const record = resolveRecord(engine, ref);
  if (options.json) {
    ctx.out(jsonText({ ...record, fields: record.fields.map((f) => ({ ...f, value: maskField(f, Boolean(options.reveal)) })) }, 2));
  } else {
    ctx.out(formatRecord(record, Boolean(options.reveal)));
    if (record.conflictOf) ctx.out(`(a conflict copy: it keeps your version of ${record.conflictOf})`);
    if (record.unreadable.length > 0) ctx.out(`(sealed, not readable while locked: ${record.unreadable.join(', ')})`);
  }
}

export async function searchCommand(ctx: Context, query: string, options: { json?: boolean; limit?: string }): Promise<void> {
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit ${options.limit}: must be a whole number above zero`, EXIT.usage);
  const result = engine.search(query, { limit });
  if (options.json) {
    ctx.out(jsonText({ total: result.total, hits: result.hits.map((h) => ({ id: h.id, name: h.record.name, matched: h.matched, field: h.field })) }, 2));
    return;
  }
  if (result.total === 0) {
    ctx.out(`nothing matches "${query}"`);
    return;
  }
  ctx.out(table(['ID', 'KIND', 'NAME', 'MATCHED'], result.hits.map((h) => [h.id.slice(0, 8), h.record.kind, label(h.record), h.matched === 'name' ? 'name' : `field ${h.field}`])));
  ctx.out(`${result.total} match${result.total === 1 ? '' : 'es'}${result.total > result.hits.length ? `, first ${result.hits.length} shown` : ''}`);
}

export async function historyCommand(ctx: Context, ref: string | undefined, options: { deleted?: boolean; reveal?: boolean; json?: boolean }): Promise<void> {
  const engine = await openEngine(ctx);
  await engine.sync();
  if (options.deleted || !ref) {
    const deleted = (await engine.deletedRecords()).map((r) => engine.open(r));
    if (options.json) return ctx.out(jsonText(deleted.map((r) => ({ id: r.id, name: r.name, kind: r.kind, deletedAt: r.updatedAt, version: r.version })), 2));
    if (deleted.length === 0) return ctx.out('no deleted records');
    ctx.out(table(['ID', 'KIND', 'NAME', 'DELETED', 'VERSION'], deleted.map((r) => [r.id.slice(0, 8), r.kind, r.name, formatTime(r.updatedAt), String(r.version)])));
    ctx.out('restore one with: keeper restore ID --version N (see keeper history ID)');
    return;
  }
  const recordId = await resolveAnyRecord(engine, ref);
  const versions = await engine.history(recordId);
  const rows = versions.map((v) => ({ ...v, opened: engine.open(v.state) }));
  if (options.json) {
    ctx.out(jsonText(rows.map((v) => ({ version: v.version, at: v.at, type: v.type, clientId: v.clientId, name: v.opened.name, kind: v.opened.kind, fields: v.opened.fields.map((f) => ({ ...f, value: maskField(f, Boolean(options.reveal)) })) })), 2));
    return;
  }
  ctx.out(table(['VERSION', 'TIME', 'CHANGE', 'CLIENT', 'NAME', 'FIELDS'], rows.map((v) => [String(v.version), formatTime(v.at), v.type.replace('Record', '').toLowerCase(), v.clientId, v.opened.name, v.opened.fields.map((f) => `${f.name}=${maskField(f, Boolean(options.reveal))}`).join(' ')])));
}

/** History and restore also reach deleted records, by id or id prefix. */
async function resolveAnyRecord(engine: SyncEngine, ref: string): Promise<string> {
  try {
    return resolveRecord(engine, ref).id;
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode !== EXIT.notFound) throw error;
    const needle = ref.toLowerCase();
    const deleted = (await engine.deletedRecords()).filter((r) => r.id === needle || (needle.length >= 4 && r.id.startsWith(needle)) || engine.open(r).name.toLowerCase() === needle);
    if (deleted.length === 1) return deleted[0]!.id;
    throw error;
  }
}

// ---- writing -------------------------------------------------------------------------------

export interface FieldOptions {
  field?: string[];
  secret?: string[];
}

async function afterWrite(ctx: Context, engine: SyncEngine, done: string): Promise<void> {
  const report = await syncIfOnline(ctx, engine);
  ctx.out(report ? done : `${done} (saved locally; it will be pushed at the next sync)`);
}

export async function addCommand(ctx: Context, name: string, options: FieldOptions & { kind?: string; sealAll?: boolean }): Promise<void> {
  const kind = parseKind(options.kind ?? 'custom');
  const fields = await collectFields(options);
  const engine = await openEngine(ctx);
  const recordId = await engine.create({ kind, name, fields, sealAll: Boolean(options.sealAll) });
  await afterWrite(ctx, engine, `added ${recordId} (${escapeControls(name)})`);
}

export async function editCommand(ctx: Context, ref: string, options: FieldOptions & { kind?: string; name?: string; remove?: string[] }): Promise<void> {
  const setFields = await collectFields(options);
  const removeFields = options.remove ?? [];
  if (options.name === undefined && options.kind === undefined && setFields.length === 0 && removeFields.length === 0) {
    throw new CliError('nothing to change: give --name, --kind, --field, --secret or --remove', EXIT.usage);
  }
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  const record = resolveRecord(engine, ref);
  const unknown = removeFields.filter((name) => !record.fields.some((f) => f.name === name));
  if (unknown.length > 0) throw new CliError(`record "${escapeControls(record.name)}" has no field ${unknown.map((n) => `"${n}"`).join(', ')}`, EXIT.notFound);
  const changes: Parameters<SyncEngine['update']>[1] = { setFields, removeFields };
  if (options.name !== undefined) changes.name = options.name;
  if (options.kind !== undefined) changes.kind = parseKind(options.kind);
  await engine.update(record.id, changes);
  await afterWrite(ctx, engine, `updated ${record.id} (${escapeControls(options.name ?? record.name)})`);
}

export async function removeCommand(ctx: Context, ref: string): Promise<void> {
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  const record = resolveRecord(engine, ref);
  await engine.delete(record.id);
  await afterWrite(ctx, engine, `deleted ${record.id} (${escapeControls(record.name)})`);
}

export async function restoreCommand(ctx: Context, ref: string, options: { version?: string }): Promise<void> {
  const version = Number(options.version);
  if (!Number.isInteger(version) || version < 1) throw new CliError('--version N is needed: a version from keeper history', EXIT.usage);
  const engine = await openEngine(ctx);
  await engine.sync();
  const recordId = await resolveAnyRecord(engine, ref);
  await engine.restore(recordId, version);
  await afterWrite(ctx, engine, `restored ${recordId} as it was at version ${version}`);
}

// ---- encryption ----------------------------------------------------------------------------

/** A new secret word, refused (exit 2, nothing changed) when the client's rule finds it weak. */
async function promptNewSecret(ctx: Context): Promise<string> {
  const secret = await promptSecret('new secret word');
  const login = (await ctx.client.currentSession())?.login;
  const verdict = await checkSecretWord(secret, login ? [login] : []);
  if (!verdict.ok) throw new CliError(`${verdict.reason}; nothing changed`, EXIT.usage);
  return secret;
}

export async function encryptCommand(ctx: Context, options: { all?: boolean }): Promise<void> {
  const engine = await openEngine(ctx);
  const secret = await promptNewSecret(ctx);
  if (process.stdin.isTTY && (await promptSecret('secret word again')) !== secret) throw new CliError('the two secret words differ; nothing changed', EXIT.usage);
  const { resealed, report } = await engine.enableEncryption(secret, { sealAll: Boolean(options.all) });
  reportConflicts(ctx, engine, report.conflicts);
  ctx.out(`encryption is on: ${resealed} record(s) re-written sealed, version ${report.version}`);
  ctx.warn('note: the values those records had before stay readable in the server-side history; change any that matter');
}

export async function changeSecretCommand(ctx: Context): Promise<void> {
  // A locked local copy asks for the current word to open it: that answer is the current word,
  // not asked a second time. (An unlocked session or a copy without encryption yet does not ask.)
  let current: string | undefined;
  const engine = await openEngine(ctx, async () => (current = await promptSecret('current secret word')));
  current ??= await promptSecret('current secret word');
  const next = await promptNewSecret(ctx);
  if (process.stdin.isTTY && (await promptSecret('new secret word again')) !== next) throw new CliError('the two secret words differ; nothing changed', EXIT.usage);
  const report = await engine.changeSecret(current, next);
  ctx.out(`secret word changed (the vault key was re-wrapped; no record changed), version ${report.version}`);
}

export async function unlockCommand(ctx: Context): Promise<void> {
  const session = await ctx.client.currentSession();
  if (!session) throw new NotLoggedIn();
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  if (!engine.encrypted) throw new CliError('the vault is not encrypted: there is nothing to unlock (keeper encrypt turns it on)', EXIT.usage);
  if (!engine.unlocked) await engine.unlock(await promptSecret('secret word'));
  const secret = await saveUnlockedKey(ctx.home, ctx.server, session.userId, engine.unlockedKey!);
  ctx.out(`export KEEPER_SESSION="${secret}"`);
  ctx.warn('vault unlocked: set KEEPER_SESSION as printed for later commands; keeper lock ends it');
}

export async function lockCommand(ctx: Context): Promise<void> {
  const session = await ctx.client.currentSession();
  if (!session) throw new NotLoggedIn();
  ctx.out((await forgetUnlockedKey(ctx.home, ctx.server, session.userId)) ? 'vault locked' : 'the vault was not unlocked');
}

// ---- input ---------------------------------------------------------------------------------

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
