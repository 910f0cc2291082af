import { recordKindSchema, type Field, type RecordKind } from '../../domain/record.js';
import type { ConflictNotice } from '../../domain/rebase.js';
import { CliError, EXIT } from './exit-codes.js';
import type { KeeperClient } from '../keeper-client.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import type { SyncReport } from '../sync/sync-protocol.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import { describeConflict } from '../sync/conflict-notices.js';
import { formatRecord, formatTime, table } from './format.js';
import { MASK, maskField } from '../core/masking.js';
import { describeChange, historyDiffs } from '../core/record-diff.js';
import { checkSecretWord } from '../secret-word-policy.js';
import type * as Prompt from './prompt.js';
import { escapeControls, jsonText } from '../terminal-text.js';
import { forgetUnlockedKey, saveUnlockedKey } from '../core/unlocked-key-store.js';
import { failureOf, isOffline, KeeperFailure } from '../core/failures.js';
import { openLoggedInVault, type VaultHandle } from '../core/vault-handle.js';
import { favouritesFirst, filterRecords } from '../core/record-filter.js';
import { checkTotpValue } from '../core/totp.js';
import { describeEntropy, generatePassword } from '../core/generator.js';
import { reportStrength } from './strength-report.js';

// The terminal prompts (readline) and the editor (child_process, which brings dgram and more) load
// when a command asks for them: most runs, `ls` first of all, never do.
const prompt = () => import('./prompt.js');
const promptLine: typeof Prompt.promptLine = async (label) => (await prompt()).promptLine(label);
const promptSecret: typeof Prompt.promptSecret = async (label) => (await prompt()).promptSecret(label);
const readStdinText: typeof Prompt.readStdinText = async (what) => (await prompt()).readStdinText(what);
const editInEditor = async (current: string): Promise<string> => (await import('./editor-input.js')).editInEditor(current);

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

async function loggedInUser(ctx: Context): Promise<{ userId: string; login: string }> {
  const session = await ctx.client.currentSession();
  if (!session) throw new KeeperFailure('not-logged-in', 'not logged in');
  return session;
}

/**
 * Opens the logged-in user's vault (asking for the secret word when it is encrypted and locked).
 * `askSecret` replaces the plain prompt, for a command that wants to keep the word it was given.
 */
export async function openVault(ctx: Context, askSecret: () => Promise<string> = () => promptSecret('secret word')): Promise<VaultHandle> {
  // Nearly every command that opens the vault syncs next: the connection is made while the local
  // copy is read (file reads the process would otherwise only wait for), not after it. An
  // unreachable server is found out at the sync, as before.
  ctx.client.connect();
  const handle = await openLoggedInVault({
    client: ctx.client,
    server: ctx.server,
    home: ctx.home,
    clientId: ctx.clientId,
    askSecret,
    unlockSecret: ctx.sessionSecret,
    onNews: (sentence) => ctx.warn(`keeper: ${sentence}`),
  });
  for (const notice of handle.notices) ctx.warn(`keeper: ${notice}`);
  return handle;
}

/** Syncs, but an unreachable server only means working from the local copy. */
export async function syncIfOnline(ctx: Context, handle: VaultHandle): Promise<SyncReport | undefined> {
  const outcome = await handle.sync();
  if (outcome.online) {
    reportConflicts(ctx, handle.vault, outcome.report.conflicts);
    return outcome.report;
  }
  const why = outcome.failure.kind === 'unavailable' ? `the server at ${ctx.server} is unavailable for a moment` : `the server at ${ctx.server} cannot be reached`;
  ctx.warn(`keeper: offline (${why}): using the local copy at version ${handle.vault.version}, ${handle.vault.pendingCount} change(s) waiting`);
  return undefined;
}

/** A sync that must reach the server, its conflicts told. */
async function syncOnline(ctx: Context, handle: VaultHandle): Promise<SyncReport> {
  const report = await handle.syncOnline();
  reportConflicts(ctx, handle.vault, report.conflicts);
  return report;
}

function reportConflicts(ctx: Context, vault: SyncEngine, conflicts: ConflictNotice[]): void {
  for (const conflict of conflicts) ctx.warn(describeConflict(conflict, escapeControls(displayName(vault, conflict.recordId, conflict.recordName))));
}

function displayName(vault: SyncEngine, recordId: string, fallback: string): string {
  const record = vault.record(recordId);
  return record ? vault.open(record).name : fallback;
}

function label(record: OpenedRecord): string {
  return `${record.name}${record.conflictOf ? ` (conflict copy of ${record.conflictOf.slice(0, 8)})` : ''}`;
}

// ---- reading -------------------------------------------------------------------------------

export async function statusCommand(ctx: Context): Promise<void> {
  const session = await ctx.client.currentSession();
  const handle = await openVault(ctx);
  const { vault } = handle;
  let serverLine = 'unreachable';
  try {
    const status = await ctx.client.status();
    serverLine = `version ${status.version}, changed ${formatTime(status.lastModifiedAt)}`;
  } catch (error) {
    if (!isOffline(error)) throw error;
    if (failureOf(error).kind === 'unavailable') serverLine = 'unavailable for a moment';
  }
  ctx.out(`server     ${ctx.server} (${serverLine})`);
  ctx.out(`user       ${session?.login ?? '-'}`);
  ctx.out(`local      version ${vault.version}, changed ${formatTime(vault.lastModifiedAt)}, ${vault.pendingCount} change(s) waiting`);
  ctx.out(`encryption ${vault.encrypted ? (vault.unlocked ? 'on, unlocked' : 'on, locked') : 'off'}`);
  const waiting = (await handle.queuedImages()).length;
  if (waiting > 0) ctx.out(`images     ${waiting} waiting to be sent (kept on this machine until a sync reaches the server)`);
}

export async function syncCommand(ctx: Context): Promise<void> {
  const handle = await openVault(ctx);
  const report = await syncOnline(ctx, handle);
  const what = report.transfer === 'none' ? 'already up to date' : report.transfer === 'snapshot' ? 'loaded a snapshot' : `pulled ${report.pulled} event(s)`;
  ctx.out(`synced: ${what}, pushed ${report.pushed} change(s), version ${report.version}${report.conflicts.length ? `, ${report.conflicts.length} conflict(s)` : ''}`);
}

export async function listCommand(ctx: Context, options: { json?: boolean; tag?: string; favourites?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  const filter = { tag: options.tag, favourite: options.favourites };
  const records = favouritesFirst(filterRecords(vault.records().map((r) => vault.open(r)), filter));
  if (options.json) {
    ctx.out(jsonText({ version: vault.version, records: records.map((r) => ({ ...r, fields: r.fields.map((f) => ({ ...f, value: maskField(f, false) })) })) }, 2));
    return;
  }
  const filtered = [options.favourites ? ' starred' : '', options.tag !== undefined ? ` tagged "${escapeControls(options.tag)}"` : ''].join('');
  if (records.length === 0) {
    ctx.out(`no records${filtered} (version ${vault.version})`);
    return;
  }
  ctx.out(table(['ID', 'KIND', 'NAME', 'TAGS', 'UPDATED'], records.map((r) => [r.id.slice(0, 8), r.kind, `${r.favourite ? '* ' : ''}${label(r)}`, r.tags.join(', '), formatTime(r.updatedAt)])));
  ctx.out(`${records.length} record${records.length === 1 ? '' : 's'}${filtered}, version ${vault.version}${vault.pendingCount ? `, ${vault.pendingCount} change(s) waiting` : ''}`);
}

export async function showCommand(ctx: Context, ref: string, options: { reveal?: boolean; json?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  const record = handle.findRecord(ref);
  if (options.json) {
    ctx.out(jsonText({ ...record, fields: record.fields.map((f) => ({ ...f, value: maskField(f, Boolean(options.reveal)) })) }, 2));
  } else {
    ctx.out(formatRecord(record, Boolean(options.reveal)));
    if (record.conflictOf) ctx.out(`(a conflict copy: it keeps your version of ${record.conflictOf})`);
    if (record.unreadable.length > 0) ctx.out(`(sealed, not readable while locked: ${record.unreadable.join(', ')})`);
  }
}

export async function searchCommand(ctx: Context, query: string, options: { json?: boolean; limit?: string; includeSensitive?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit ${options.limit}: must be a whole number above zero`, EXIT.usage);
  const result = vault.search(query, { limit, includeSensitive: Boolean(options.includeSensitive) });
  if (options.json) {
    ctx.out(jsonText({ total: result.total, hits: result.hits.map((h) => ({ id: h.id, name: h.record.name, matched: h.matched, field: h.field })) }, 2));
    return;
  }
  if (result.total === 0) {
    ctx.out(`nothing matches "${query}"${options.includeSensitive ? '' : ' (sensitive values are not searched; add --include-sensitive)'}`);
    return;
  }
  ctx.out(table(['ID', 'KIND', 'NAME', 'MATCHED'], result.hits.map((h) => [h.id.slice(0, 8), h.record.kind, label(h.record), h.matched === 'name' ? 'name' : `field ${h.field}`])));
  ctx.out(`${result.total} match${result.total === 1 ? '' : 'es'}${result.total > result.hits.length ? `, first ${result.hits.length} shown` : ''}`);
}

export async function historyCommand(ctx: Context, ref: string | undefined, options: { deleted?: boolean; reveal?: boolean; json?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncOnline(ctx, handle);
  if (options.deleted || !ref) {
    const deleted = (await vault.deletedRecords()).map((r) => vault.open(r));
    if (options.json) return ctx.out(jsonText(deleted.map((r) => ({ id: r.id, name: r.name, kind: r.kind, deletedAt: r.updatedAt, version: r.version })), 2));
    if (deleted.length === 0) return ctx.out('no deleted records');
    ctx.out(table(['ID', 'KIND', 'NAME', 'DELETED', 'VERSION'], deleted.map((r) => [r.id.slice(0, 8), r.kind, r.name, formatTime(r.updatedAt), String(r.version)])));
    ctx.out('restore one with: keeper restore ID --version N (see keeper history ID)');
    return;
  }
  const recordId = await handle.findAnyRecordId(ref);
  const versions = await vault.history(recordId);
  const rows = versions.map((v) => ({ ...v, opened: vault.open(v.state) }));
  const diffs = historyDiffs(rows, (v) => v.opened, { reveal: Boolean(options.reveal) });
  if (options.json) {
    ctx.out(
      jsonText(
        rows.map((v, i) => ({
          version: v.version,
          at: v.at,
          type: v.type,
          clientId: v.clientId,
          name: v.opened.name,
          kind: v.opened.kind,
          tags: v.opened.tags,
          favourite: v.opened.favourite,
          fields: v.opened.fields.map((f) => ({ ...f, value: maskField(f, Boolean(options.reveal)) })),
          changes: diffs[i]!.changes,
        })),
        2,
      ),
    );
    return;
  }
  ctx.out(table(['VERSION', 'TIME', 'CHANGE', 'CLIENT', 'NAME', 'FIELDS'], rows.map((v) => [String(v.version), formatTime(v.at), v.type.replace('Record', '').toLowerCase(), v.clientId, v.opened.name, v.opened.fields.map((f) => `${f.name}=${maskField(f, Boolean(options.reveal))}`).join(' ')])));
  ctx.out('');
  ctx.out('what changed');
  for (const { version, changes } of diffs) ctx.out(escapeControls(`  ${String(version.version).padStart(4)}  ${changes.map(describeChange).join('; ')}`));
  if (!options.reveal && diffs.some(({ changes }) => changes.some((c) => c.what === 'field' && (c.before === MASK || c.after === MASK)))) {
    ctx.out('(sensitive values are hidden; add --reveal to show them)');
  }
}

// ---- writing -------------------------------------------------------------------------------

export interface FieldOptions {
  field?: string[];
  secret?: string[];
  /** One-time-code fields: name=secret (an otpauth://totp/ URI or a base32 secret). */
  totp?: string[];
  /** Sensitive fields filled with a new random password. */
  generate?: string[];
  /** A field whose value (a note of many lines) is read from standard input. */
  stdin?: string;
  /** Fields whose value is written in $VISUAL / $EDITOR (starting from the current value on edit). */
  editor?: string[];
}

/** Tags and the star, as add and edit take them. */
export interface TagOptions {
  tag?: string[];
  untag?: string[];
  /** true with --favourite, false with --no-favourite, absent when neither was given. */
  favourite?: boolean;
}

export async function afterWrite(ctx: Context, handle: VaultHandle, done: string): Promise<void> {
  const report = await syncIfOnline(ctx, handle);
  ctx.out(report ? done : `${done} (saved locally; it will be pushed at the next sync)`);
}

export async function addCommand(ctx: Context, name: string, options: FieldOptions & TagOptions & { kind?: string; sealAll?: boolean }): Promise<void> {
  const kind = parseKind(options.kind ?? 'custom');
  const fields = await collectFields(options, ctx.warn);
  const handle = await openVault(ctx);
  const { vault } = handle;
  const recordId = await vault.create({ kind, name, fields, sealAll: Boolean(options.sealAll), tags: options.tag ?? [], favourite: Boolean(options.favourite) });
  await afterWrite(ctx, handle, `added ${recordId} (${escapeControls(name)})`);
  await reportStrength(ctx.warn, fields, [name]);
}

export async function editCommand(ctx: Context, ref: string, options: FieldOptions & TagOptions & { kind?: string; name?: string; remove?: string[] }): Promise<void> {
  // A value written in the editor starts from the current one, and a note keeps its field's
  // sensitivity: those need the record before the new values are taken.
  const early = (options.editor?.length ?? 0) > 0 || options.stdin !== undefined ? await openVault(ctx) : undefined;
  if (early) await syncIfOnline(ctx, early);
  const setFields = await collectFields(options, ctx.warn, early ? early.findRecord(ref).fields : []);
  const removeFields = options.remove ?? [];
  const tagsChange = (options.tag?.length ?? 0) > 0 || (options.untag?.length ?? 0) > 0;
  if (options.name === undefined && options.kind === undefined && setFields.length === 0 && removeFields.length === 0 && !tagsChange && options.favourite === undefined) {
    throw new CliError('nothing to change: give --name, --kind, --field, --secret, --totp, --remove, --tag, --untag or --favourite', EXIT.usage);
  }
  const handle = early ?? (await openVault(ctx));
  const { vault } = handle;
  if (!early) await syncIfOnline(ctx, handle);
  const record = handle.findRecord(ref);
  const unknown = removeFields.filter((name) => !record.fields.some((f) => f.name === name));
  if (unknown.length > 0) throw new CliError(`record "${escapeControls(record.name)}" has no field ${unknown.map((n) => `"${n}"`).join(', ')}`, EXIT.notFound);
  const changes: Parameters<SyncEngine['update']>[1] = { setFields, removeFields };
  if (options.name !== undefined) changes.name = options.name;
  if (options.kind !== undefined) changes.kind = parseKind(options.kind);
  if (tagsChange) changes.tags = vault.tagsAfter(record.id, { add: options.tag ?? [], remove: options.untag ?? [] });
  if (options.favourite !== undefined) changes.favourite = options.favourite;
  await vault.update(record.id, changes);
  await afterWrite(ctx, handle, `updated ${record.id} (${escapeControls(options.name ?? record.name)})`);
  await reportStrength(ctx.warn, setFields, [options.name ?? record.name]);
}

export async function removeCommand(ctx: Context, ref: string): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  const record = handle.findRecord(ref);
  await vault.delete(record.id);
  await afterWrite(ctx, handle, `deleted ${record.id} (${escapeControls(record.name)})`);
}

export async function restoreCommand(ctx: Context, ref: string, options: { version?: string }): Promise<void> {
  const version = Number(options.version);
  if (!Number.isInteger(version) || version < 1) throw new CliError('--version N is needed: a version from keeper history', EXIT.usage);
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncOnline(ctx, handle);
  const recordId = await handle.findAnyRecordId(ref);
  await vault.restore(recordId, version);
  await afterWrite(ctx, handle, `restored ${recordId} as it was at version ${version}`);
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
  const handle = await openVault(ctx);
  const { vault } = handle;
  const secret = await promptNewSecret(ctx);
  if (process.stdin.isTTY && (await promptSecret('secret word again')) !== secret) throw new CliError('the two secret words differ; nothing changed', EXIT.usage);
  const { resealed, report } = await vault.enableEncryption(secret, { sealAll: Boolean(options.all) });
  reportConflicts(ctx, vault, report.conflicts);
  ctx.out(`encryption is on: ${resealed} record(s) re-written sealed, version ${report.version}`);
  ctx.warn('note: the values those records had before stay readable in the server-side history; change any that matter');
}

export async function changeSecretCommand(ctx: Context): Promise<void> {
  // A locked local copy asks for the current word to open it: that answer is the current word,
  // not asked a second time. (An unlocked session or a copy without encryption yet does not ask.)
  let current: string | undefined;
  const handle = await openVault(ctx, async () => (current = await promptSecret('current secret word')));
  current ??= await promptSecret('current secret word');
  const next = await promptNewSecret(ctx);
  if (process.stdin.isTTY && (await promptSecret('new secret word again')) !== next) throw new CliError('the two secret words differ; nothing changed', EXIT.usage);
  const report = await handle.vault.changeSecret(current, next);
  ctx.out(`secret word changed (the vault key was re-wrapped; no record changed), version ${report.version}`);
}

export async function unlockCommand(ctx: Context): Promise<void> {
  const session = await loggedInUser(ctx);
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  if (!vault.encrypted) throw new CliError('the vault is not encrypted: there is nothing to unlock (keeper encrypt turns it on)', EXIT.usage);
  if (!vault.unlocked) await vault.unlock(await promptSecret('secret word'));
  const secret = await saveUnlockedKey(ctx.home, ctx.server, session.userId, vault.unlockedKey!);
  ctx.out(`export KEEPER_SESSION="${secret}"`);
  ctx.warn('vault unlocked: set KEEPER_SESSION as printed for later commands; keeper lock ends it');
}

export async function lockCommand(ctx: Context): Promise<void> {
  const session = await loggedInUser(ctx);
  ctx.out((await forgetUnlockedKey(ctx.home, ctx.server, session.userId)) ? 'vault locked' : 'the vault was not unlocked');
}

// ---- input ---------------------------------------------------------------------------------

function parseKind(kind: string): RecordKind {
  const parsed = recordKindSchema.safeParse(kind);
  if (!parsed.success) throw new CliError(`--kind ${kind}: must be one of login, card, note, custom`, EXIT.usage);
  return parsed.data;
}

/** `--field name=value` and `--secret name=value`; a secret without `=value` is asked for unseen. */
async function collectFields(options: FieldOptions, warn: Out, current: Field[] = []): Promise<Field[]> {
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
  for (const spec of options.totp ?? []) {
    const index = spec.indexOf('=');
    if (index === 0) throw new CliError(`--totp ${spec}: write it as name or name=secret`, EXIT.usage);
    const name = index > 0 ? spec.slice(0, index) : spec;
    const value = index > 0 ? spec.slice(index + 1) : await promptSecret(`one-time-code secret or otpauth:// URI of ${name}`);
    try {
      checkTotpValue(value);
    } catch (error) {
      throw new CliError(`--totp ${name}: ${error instanceof Error ? error.message : String(error)}`, EXIT.usage);
    }
    fields.push({ name, value, sensitive: true, kind: 'totp' });
  }
  for (const name of options.generate ?? []) {
    const generated = generatePassword();
    fields.push({ name, value: generated.value, sensitive: true });
    warn(`keeper: ${escapeControls(name)} is a new random password, ${describeEntropy(generated.entropyBits)} (keeper show --reveal shows it)`);
  }
  // A note keeps its field's sensitivity when it has one already; a new one is plain text.
  const sensitiveNow = (name: string) => current.find((f) => f.name === name)?.sensitive ?? false;
  for (const name of options.editor ?? []) {
    fields.push({ name, value: await editInEditor(current.find((f) => f.name === name)?.value ?? ''), sensitive: sensitiveNow(name) });
  }
  if (options.stdin !== undefined) fields.push({ name: options.stdin, value: await readStdinText(`the value of ${options.stdin}`), sensitive: sensitiveNow(options.stdin) });
  const names = new Set<string>();
  for (const field of fields) {
    if (names.has(field.name)) throw new CliError(`field "${field.name}" is given twice`, EXIT.usage);
    names.add(field.name);
  }
  return fields;
}
