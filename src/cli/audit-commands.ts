import type { RecordState } from '../domain/decider.js';
import { streamIdForUser } from '../domain/vault-state.js';
import { loadServerConfig } from '../config/server-config.js';
import { openEventStore } from '../server/eventstore/open-event-store.js';
import type { EventStore } from '../server/eventstore/port.js';
import { withAuditSnapshot, type AuditSource, type AuditUser } from '../audit/audit-source.js';
import { readHistory, recordIdsMatching, type Change, type HistoryEntry } from '../audit/history.js';
import { displayValue, shownField, shownName } from '../audit/redact.js';
import { replayStream, UnreadableEvent, type ReplayBound } from '../audit/replay.js';
import { verifyReadModel, type Difference } from '../audit/verify.js';
import type { Database } from '../server/sql/database.js';
import { openAuditDatabase } from './audit-database.js';
import { CliError, EXIT } from '../client/cli/exit-codes.js';
import { progressReporter } from '../lib/progress.js';
import { jsonText } from '../client/terminal-text.js';

export type Out = (text: string) => void;

/** Where a command writes: its output, and the terminal stream its progress bar may use. */
export interface AuditIo {
  out: Out;
  progress?: NodeJS.WriteStream;
  /** Output goes to a terminal: rows printed as they come show the progress themselves. */
  outIsTerminal?: boolean;
  /** The event log when it is not in the database (KurrentDB). */
  log?: EventStore;
}

/**
 * `keeper audit ...`: opens the server's database read-only (same config as the server), runs one
 * audit command in one read-only snapshot, and closes it.
 */
export async function auditCommand(
  run: (db: Database, io: AuditIo) => Promise<void>,
  flags: Record<string, unknown>,
  out: Out,
): Promise<void> {
  // The projector mode does not matter to a reader; fixing it keeps KEEPER_PROJECTOR from refusing the embedded database.
  const config = loadServerConfig({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, eventStoreUrl: flags.eventStoreUrl, projector: 'inline' }, process.env);
  const db = await openAuditDatabase(config);
  try {
    const log = config.eventStoreUrl ? await openEventStore(config) : undefined;
    try {
      await run(db, { out, outIsTerminal: Boolean(process.stdout.isTTY), ...(log ? { log: log.store } : {}) });
    } finally {
      await log?.close();
    }
  } finally {
    await db.close();
  }
}

/** One read-only snapshot of the database, over the configured log. */
function snapshot<T>(db: Database, io: AuditIo, fn: (source: AuditSource) => Promise<T>): Promise<T> {
  return withAuditSnapshot(db, fn, io.log);
}

function reporter(io: AuditIo, label: string, total?: number) {
  return progressReporter(label, 'events', io.progress ?? process.stderr, total);
}

async function requireUser(source: AuditSource, ref: string): Promise<AuditUser> {
  const user = await source.findUser(ref);
  if (!user) throw new CliError(`there is no user "${ref}" (give a login or a user id)`, EXIT.notFound);
  return user;
}

function userLabel(user: AuditUser): string {
  return user.login ? `${user.login} (${user.userId})` : `${user.userId} (no user row)`;
}

/** Turns a damaged event into a sentence instead of a stack trace. */
async function readable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UnreadableEvent) throw new CliError(`${error.message}; run keeper audit verify for the whole picture`, EXIT.failure);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------- history

export async function auditHistory(db: Database, options: { user: string; record?: string; json?: boolean }, io: AuditIo): Promise<void> {
  await snapshot(db, io, async (source) => {
    const user = await requireUser(source, options.user);
    const stream = streamIdForUser(user.userId);
    const streamVersion = await source.streamVersion(user.userId);
    let recordId: string | undefined;
    if (options.record !== undefined) recordId = await resolveRecord(source, user, stream, streamVersion, options.record);

    // A bar would tangle with rows printed to the same terminal; it helps when they go to a pipe or file.
    const progress = io.outIsTerminal ? { add: () => {}, done: () => {} } : reporter(io, 'reading history', streamVersion);
    const head = { user: { id: user.userId, login: user.login }, version: streamVersion, record: recordId ?? null };
    let first = true;
    if (options.json) io.out(`${jsonText(head).slice(0, -1)},"events":[`);
    else {
      io.out(`history of ${userLabel(user)}: ${streamVersion} events${recordId ? `, record ${recordId} only` : ''}`);
      if (streamVersion > 0) io.out(historyLine(['VERSION', 'TIME', 'TYPE', 'RECORD', 'MUTATION', 'CLIENT', 'CHANGES'], String(streamVersion).length));
    }
    await readable(async () => {
      for await (const entries of readHistory(source.store, stream, { streamVersion, ...(recordId ? { recordId } : {}), onEvents: (n) => progress.add(n) })) {
        for (const entry of entries) {
          if (options.json) {
            io.out(`${first ? '' : ','}${jsonText(historyJson(entry))}`);
            first = false;
          } else io.out(historyRow(entry, String(streamVersion).length));
        }
      }
    });
    progress.done();
    if (options.json) io.out(']}');
  });
}

async function resolveRecord(source: AuditSource, user: AuditUser, stream: string, streamVersion: number, ref: string): Promise<string> {
  const wanted = ref.trim().toLowerCase();
  if (!/^[0-9a-f-]{4,36}$/.test(wanted)) throw new CliError(`--record "${ref}" is not a record id or an id prefix of at least 4 characters`, EXIT.usage);
  const matches = await readable(() => recordIdsMatching(source.store, stream, streamVersion, wanted));
  if (matches.length === 0) throw new CliError(`user ${user.login ?? user.userId} has no record ${ref} in the log`, EXIT.notFound);
  if (matches.length > 1) throw new CliError(`--record ${ref} matches ${matches.length} records (${matches.join(', ')}); give more of the id`, EXIT.usage);
  return matches[0]!;
}

function historyJson(entry: HistoryEntry) {
  return { ...entry, at: new Date(entry.at).toISOString() };
}

const TIME_WIDTH = 24;
const TYPE_WIDTH = 'RecordRestored'.length;

function historyLine(cells: string[], versionWidth: number): string {
  const [version, time, type, record, mutation, client, changes] = cells;
  return [version!.padStart(Math.max(versionWidth, 'VERSION'.length)), time!.padEnd(TIME_WIDTH), type!.padEnd(TYPE_WIDTH), record!.padEnd(8), mutation!.padEnd(8), client!.padEnd(16), changes!].join('  ').trimEnd();
}

function historyRow(entry: HistoryEntry, versionWidth: number): string {
  const client = entry.clientId.length > 16 ? `${entry.clientId.slice(0, 15)}~` : entry.clientId;
  return historyLine(
    [String(entry.version), new Date(entry.at).toISOString(), entry.type, (entry.recordId ?? '-').slice(0, 8), entry.mutationId.slice(0, 8), client, entry.changes.map(describeChange).join(', ')],
    versionWidth,
  );
}

export function describeChange(change: Change): string {
  switch (change.what) {
    case 'name':
    case 'kind': {
      const show = (value: string) => (change.what === 'name' ? JSON.stringify(value) : value);
      return change.from === undefined ? `${change.what} ${show(change.to)}` : `${change.what} ${show(change.from)} -> ${show(change.to)}`;
    }
    case 'deleted':
      return 'deleted';
    case 'restored':
      return `restored from version ${change.fromVersion}${change.undeleted ? ' (undeleted)' : ''}`;
    case 'conflictOf':
      return `conflict copy of ${change.recordId}`;
    case 'image':
      switch (change.change) {
        case 'attached':
          return `image ${change.imageId.slice(0, 8)} attached (${change.fileName ?? '?'}, ${change.size ?? 0} bytes)`;
        case 'renditions':
          return `image ${change.imageId.slice(0, 8)}: cover and compact copy made`;
        case 'failed':
          return `image ${change.imageId.slice(0, 8)}: renditions failed (${change.reason ?? 'no reason given'})`;
        case 'detached':
          return `image ${change.imageId.slice(0, 8)} removed`;
      }
      return '';
    case 'vaultKey':
      return `vault key ${change.keyId} ${change.rewrapped ? 're-wrapped under a new secret word' : 'set (encryption on)'} (envelope sealed)`;
    case 'field': {
      const marker = change.sensitive ? ` (${change.to?.masked ?? 'sensitive'})` : '';
      switch (change.change) {
        case 'added':
          return change.sensitive || !change.to ? `+${change.field}${marker}` : `+${change.field}=${displayValue(change.to)}`;
        case 'removed':
          return `-${change.field}${marker}`;
        case 'unchanged':
          return `=${change.field}${marker} (same value)`;
        case 'changed':
          return change.sensitive || !change.from || !change.to ? `~${change.field}${marker}` : `~${change.field} ${displayValue(change.from)} -> ${displayValue(change.to)}`;
      }
    }
  }
  return '';
}

// ------------------------------------------------------------------------------------------ state

/** `--at`: a whole number is a version; anything else must be an ISO 8601 time. */
export function parseAt(value: string): ReplayBound {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const version = Number(text);
    if (!Number.isSafeInteger(version)) throw new CliError(`--at ${value} is too large for a version`, EXIT.usage);
    return { version };
  }
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
  const time = iso.test(text) ? Date.parse(text.replace(' ', 'T')) : NaN;
  if (!Number.isFinite(time)) {
    throw new CliError(`--at "${value}" is neither a version (a whole number) nor an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)`, EXIT.usage);
  }
  return { time };
}

export async function auditState(db: Database, options: { user: string; at: string; json?: boolean }, io: AuditIo): Promise<void> {
  const bound = parseAt(options.at);
  await snapshot(db, io, async (source) => {
    const user = await requireUser(source, options.user);
    const streamVersion = await source.streamVersion(user.userId);
    if ('version' in bound && bound.version > streamVersion) {
      throw new CliError(`--at ${bound.version} is past the end of ${user.login ?? user.userId}'s log, which has ${streamVersion} events`, EXIT.usage);
    }
    const total = 'version' in bound ? bound.version : streamVersion;
    const progress = reporter(io, 'replaying', total);
    const state = await readable(() =>
      replayStream(source.store, streamIdForUser(user.userId), { streamVersion, until: bound, onEvents: (n) => progress.add(n) }),
    );
    progress.done();
    const byCreation = (a: RecordState, b: RecordState) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const all = [...state.records.values()].sort(byCreation);
    const live = all.filter((r) => r.deletedAt === null);
    const deleted = all.filter((r) => r.deletedAt !== null);
    const asked = 'version' in bound ? { version: bound.version } : { time: new Date(bound.time).toISOString() };
    if (options.json) {
      const record = (r: RecordState) => ({
        id: r.id,
        kind: r.kind,
        name: shownName(r.name),
        fields: r.fields.map(shownField),
        ...(r.conflictOf ? { conflictOf: r.conflictOf } : {}),
        createdAt: new Date(r.createdAt).toISOString(),
        updatedAt: new Date(r.updatedAt).toISOString(),
        version: r.version,
        ...(r.deletedAt !== null ? { deletedAt: new Date(r.deletedAt).toISOString() } : {}),
      });
      io.out(
        jsonText({
          user: { id: user.userId, login: user.login },
          at: asked,
          version: state.version,
          lastModifiedAt: state.version > 0 ? new Date(state.lastModifiedAt).toISOString() : null,
          // The wrapped key itself is never printed: only that the vault is encrypted, and under which key id.
          vaultKey: state.vaultKey ? { keyId: state.vaultKey.keyId } : null,
          records: live.map(record),
          deleted: deleted.map(record),
        }),
      );
      return;
    }
    const when = 'version' in asked ? `version ${asked.version}` : `${asked.time} (version ${state.version})`;
    const last = state.version > 0 ? `, last change ${new Date(state.lastModifiedAt).toISOString()}` : '';
    const encrypted = state.vaultKey ? `, encrypted (vault key ${state.vaultKey.keyId})` : '';
    io.out(`${userLabel(user)} at ${when}${last}${encrypted}: ${live.length} record${live.length === 1 ? '' : 's'}, ${deleted.length} deleted`);
    if (live.length > 0) io.out(table(['ID', 'KIND', 'NAME', 'VERSION', 'UPDATED', 'FIELDS'], live.map(stateRow)));
    if (deleted.length > 0) {
      io.out('deleted:');
      io.out(table(['ID', 'KIND', 'NAME', 'VERSION', 'DELETED', 'FIELDS'], deleted.map(stateRow)));
    }
  });
}

function stateRow(r: RecordState): string[] {
  const fields = r.fields.map((f) => {
    const shown = shownField(f);
    return shown.masked ? `${f.name} (${shown.masked})` : `${f.name}=${displayValue(shown)}`;
  });
  const name = `${shownName(r.name)}${r.conflictOf ? ` (conflict copy of ${r.conflictOf.slice(0, 8)})` : ''}`;
  return [r.id.slice(0, 8), r.kind, name, String(r.version), new Date(r.deletedAt ?? r.updatedAt).toISOString(), fields.join(', ')];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

// ----------------------------------------------------------------------------------------- verify

export async function auditVerify(db: Database, options: { user?: string; json?: boolean; strict?: boolean }, io: AuditIo): Promise<void> {
  const report = await snapshot(db, io, async (source) => {
    const user = options.user === undefined ? undefined : await requireUser(source, options.user);
    const progress = reporter(io, 'verifying');
    const result = await verifyReadModel(source, {
      ...(user ? { userId: user.userId } : {}),
      onTotal: (total) => progress.total(total),
      onEvents: (n) => progress.add(n),
    });
    progress.done();
    return result;
  });
  if (!options.json) for (const difference of report.differences) io.out(describeDifference(difference));
  const behind = report.lag.reduce((sum, lag) => sum + lag.behind, 0);
  if (options.json) {
    io.out(jsonText({ agrees: report.differences.length === 0, ...report, eventsBehind: behind }));
  } else {
    const users = `${report.users} user${report.users === 1 ? '' : 's'}`;
    if (report.differences.length === 0) io.out(`the read model agrees with the log: ${users}, ${report.events} events replayed`);
    else io.out(`${report.differences.length} difference${report.differences.length === 1 ? '' : 's'} between the read model and the log (${users}, ${report.events} events replayed)`);
    if (report.lag.length > 0) {
      io.out(
        `the read model is behind the log by ${behind} event${behind === 1 ? '' : 's'} for ${report.lag.length} user${report.lag.length === 1 ? '' : 's'} ` +
          `(not projected yet, so not compared; a projector that is running catches up):`,
      );
      const shown = report.lag.slice(0, 20);
      for (const lag of shown) io.out(`  ${lag.login ?? lag.userId}: read model at version ${lag.projectedVersion}, log at ${lag.logVersion}`);
      if (report.lag.length > shown.length) io.out(`  ... and ${report.lag.length - shown.length} more users`);
    }
  }
  if (report.differences.length > 0) {
    throw new CliError(`the read model differs from the log in ${report.differences.length} place${report.differences.length === 1 ? '' : 's'}`, EXIT.failure);
  }
  if (options.strict && report.lag.length > 0) {
    throw new CliError(`the read model is ${behind} events behind the log (--strict counts lag as a failure)`, EXIT.failure);
  }
}

export function describeDifference(d: Difference): string {
  const who = d.login ?? d.userId;
  const where = d.recordId ? `record ${d.recordId} ` : '';
  return `DIFF user ${who}: ${where}${d.column}: expected ${d.expected}, found ${d.found}`;
}

// ------------------------------------------------------------------------------------------ stats

export async function auditStats(db: Database, options: { json?: boolean }, io: AuditIo): Promise<void> {
  const stats = await snapshot(db, io, (source) => source.stats());
  if (options.json) {
    io.out(jsonText({ ...stats, checkpoints: stats.checkpoints.map((c) => ({ ...c, updatedAt: new Date(c.updatedAt).toISOString() })) }));
    return;
  }
  const s = stats.streamLengths;
  const types = Object.entries(stats.eventsByType)
    .map(([type, count]) => `${type} ${count}`)
    .join(', ');
  io.out(`users         ${stats.users} (${stats.usersWithoutEvents} without events)`);
  io.out(`events        ${stats.events}${types ? ` (${types})` : ''}`);
  io.out(`streams       ${s.streams}${s.streams > 0 ? `; length min ${s.min}, median ${s.median}, max ${s.max}` : ''}`);
  if (stats.checkpoints.length === 0) io.out(`checkpoint    none (the projector has not run); ${stats.events} events not projected`);
  for (const c of stats.checkpoints) {
    io.out(`checkpoint    ${c.projection} at ${c.position}, updated ${new Date(c.updatedAt).toISOString()}; ${c.eventsBehind} event${c.eventsBehind === 1 ? '' : 's'} in the log after it`);
  }
  io.out(`read model    ${stats.readModelUsersBehind} user${stats.readModelUsersBehind === 1 ? '' : 's'} behind the log`);
}
