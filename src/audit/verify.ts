import type { RecordState } from '../domain/decider.js';
import type { Field } from '../domain/record.js';
import type { ImageState } from '../domain/images.js';
import { streamIdForUser, type VaultState } from '../domain/vault-state.js';
import type { LogPosition } from '../server/eventstore/port.js';
import type { AuditSource, ReadModelRow } from './audit-source.js';
import { displayValue, looksSealed, shownValue } from './redact.js';
import { replayStream, UnreadableEvent } from './replay.js';

/**
 * One place where the read model disagrees with a replay of the log. `expected` is what the
 * replay says, `found` what the table holds; sensitive values are masked on both sides.
 */
export interface Difference {
  userId: string;
  login: string | null;
  /** Absent for a difference in the user's version row or in the log itself. */
  recordId?: string;
  /** `row`, a column of rm_records (`name`, `fields.<field>`, ...), `rm_user_versions.version`, or `log`. */
  column: string;
  expected: string;
  found: string;
}

/** A user whose log goes past what the read model reflects: not corruption, but reported. */
export interface Lag {
  userId: string;
  login: string | null;
  /** The version the projector's checkpoint says the read model reflects (what was compared). */
  projectedVersion: number;
  logVersion: number;
  behind: number;
}

export interface VerifyReport {
  users: number;
  /** Events replayed (up to each user's projected version). */
  events: number;
  differences: Difference[];
  lag: Lag[];
}

export interface VerifyOptions {
  /** One user only; every user in the log or the read model otherwise. */
  userId?: string;
  pageSize?: number;
  /** How many events will be replayed, known before the first one is (for a progress bar). */
  onTotal?: (events: number) => void;
  onEvents?: (count: number) => void;
  onDifference?: (difference: Difference) => void;
}

/**
 * Replays every user's stream (or one) and compares it with the read model: rm_records (deleted
 * rows included) and rm_user_versions. The read model reflects the log up to the projector's
 * checkpoint, so each stream is replayed up to its last event at or before the checkpoint and
 * compared there; events after it are lag, reported apart from the differences. A user version
 * row that disagrees with the checkpoint is a difference (the projector writes both together).
 */
export async function verifyReadModel(source: AuditSource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const streams = await source.userStreams();
  const checkpoint = await source.checkpoint();
  // Each stream is compared at its last event at or before the checkpoint (one pass over the log finds them all).
  const atCheckpoint = await source.versionsAtCheckpoint();
  const claimed = await source.readModelVersions(options.userId);
  let userIds: string[];
  let logins: Map<string, string>;
  if (options.userId) {
    userIds = [options.userId];
    const found = await source.findUser(options.userId);
    logins = new Map(found?.login ? [[options.userId, found.login]] : []);
  } else {
    const all = new Set([...streams.keys(), ...(await source.readModelUserIds())]);
    userIds = [...all].sort();
    logins = await source.logins();
  }
  options.onTotal?.(userIds.reduce((sum, id) => sum + Math.min(claimed.get(id) ?? 0, streams.get(id) ?? 0), 0));

  const report: VerifyReport = { users: userIds.length, events: 0, differences: [], lag: [] };
  /** A user's projected version and replay; an unreadable log comes back as its error. */
  const replay = async (userId: string): Promise<{ at: number; state: VaultState | UnreadableEvent }> => {
    const at = checkpoint ? (atCheckpoint.get(userId) ?? 0) : 0;
    try {
      const state = await replayStream(source.store, streamIdForUser(userId), {
        streamVersion: at,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
        onEvents: (count) => {
          report.events += count;
          options.onEvents?.(count);
        },
      });
      return { at, state };
    } catch (error) {
      if (!(error instanceof UnreadableEvent)) throw error;
      return { at, state: error };
    }
  };
  // Two users' replays are in flight, so the database reads the next one's pages while this
  // process folds and compares (on separate cores) instead of taking turns.
  const started = (index: number) => {
    if (index >= userIds.length) return undefined;
    const running = replay(userIds[index]!);
    // Never left unawaited: a failure surfaces when its turn comes, or not at all if an earlier one fails first.
    running.catch(() => {});
    return running;
  };
  let ahead = started(0);
  let afterThat = started(1);
  for (const [index, userId] of userIds.entries()) {
    const current = await ahead!;
    ahead = afterThat;
    afterThat = started(index + 2);
    const login = logins.get(userId) ?? null;
    const differ = (difference: Omit<Difference, 'userId' | 'login'>) => {
      const full = { userId, login, ...difference };
      report.differences.push(full);
      options.onDifference?.(full);
    };
    const logVersion = streams.get(userId) ?? 0;
    const { at } = current;
    if (logVersion > at) report.lag.push({ userId, login, projectedVersion: at, logVersion, behind: logVersion - at });
    const state = current.state;
    if (state instanceof UnreadableEvent) {
      differ({ column: 'log', expected: `a readable event ${state.version}`, found: state.message });
      continue;
    }

    const version = await source.readModelVersion(userId);
    if (at === 0) {
      if (version) differ({ column: 'rm_user_versions.version', expected: 'no row (nothing projected)', found: String(version.version) });
    } else if (!version) {
      differ({ column: 'rm_user_versions.version', expected: String(at), found: 'no row' });
    } else {
      if (version.version !== at) differ({ column: 'rm_user_versions.version', expected: String(at), found: String(version.version) });
      if (version.lastModifiedAt !== state.lastModifiedAt) {
        differ({ column: 'rm_user_versions.last_modified_at', expected: time(state.lastModifiedAt), found: time(version.lastModifiedAt) });
      }
      const key = state.vaultKey;
      if ((key?.keyId ?? null) !== version.keyId) differ({ column: 'rm_user_versions.key_id', expected: key?.keyId ?? 'null', found: version.keyId ?? 'null' });
      // The envelope is the user's wrapped vault key: compared, never printed.
      if ((key?.envelope ?? null) !== version.keyEnvelope) {
        differ({ column: 'rm_user_versions.key_envelope', expected: key ? '(sealed)' : 'null', found: version.keyEnvelope === null ? 'null' : '(sealed, a different value)' });
      }
    }

    const rows = await source.readModelRecords(userId);
    for (const [recordId, expected] of state.records) {
      const row = rows.get(recordId);
      if (!row) {
        differ({ recordId, column: 'row', expected: `present (${describeState(expected)})`, found: 'missing' });
        continue;
      }
      for (const difference of compareRecord(expected, row)) differ({ recordId, ...difference });
    }
    for (const [recordId, row] of rows) {
      if (!state.records.has(recordId)) differ({ recordId, column: 'row', expected: 'absent (no such record in the log)', found: `present (${describeRow(row)})` });
    }

    const images = await source.readModelImages(userId);
    for (const [imageId, expected] of state.images) {
      const row = images.get(imageId);
      if (!row) {
        differ({ recordId: expected.recordId, column: `rm_images.${imageId}`, expected: 'present', found: 'missing' });
        continue;
      }
      for (const difference of compareImage(expected, row)) differ({ recordId: expected.recordId, ...difference, column: `rm_images.${imageId}.${difference.column}` });
    }
    for (const [imageId, row] of images) {
      if (!state.images.has(imageId)) differ({ recordId: row.recordId, column: `rm_images.${imageId}`, expected: 'absent (no such image in the log)', found: 'present' });
    }
  }
  return report;
}

/** JSON with keys in one order (jsonb keeps its own order), so equal values print equal. */
function canonical(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value, Object.keys(value).sort()) : JSON.stringify(value ?? null);
}

/** Column by column; an image holds no secrets in the clear (a sealed one's name is ciphertext). */
function compareImage(expected: ImageState, row: ImageState): ColumnDifference[] {
  const out: ColumnDifference[] = [];
  const columns: Array<keyof ImageState> = ['recordId', 'fileName', 'original', 'encrypted', 'status', 'cover', 'compact', 'failure', 'createdAt', 'version', 'detachedAt'];
  for (const column of columns) {
    const want = canonical(expected[column]);
    const got = canonical(row[column]);
    if (want !== got) out.push({ column, expected: want, found: got });
  }
  return out;
}

type ColumnDifference = Pick<Difference, 'column' | 'expected' | 'found'>;

/** Column by column; the fields column field by field, masking any value that is or was sensitive. */
export function compareRecord(expected: RecordState, row: ReadModelRow): ColumnDifference[] {
  const out: ColumnDifference[] = [];
  const column = (name: string, want: string, got: string) => {
    if (want !== got) out.push({ column: name, expected: want, found: got });
  };
  column('kind', JSON.stringify(expected.kind), JSON.stringify(row.kind));
  if (expected.name !== row.name) {
    const want = nameText(expected.name);
    const have = nameText(row.name);
    out.push({ column: 'name', expected: want, found: have === want ? '(sealed, a different value)' : have });
  }
  column('created_at', time(expected.createdAt), time(row.createdAt));
  column('updated_at', time(expected.updatedAt), time(row.updatedAt));
  column('version', String(expected.version), String(row.version));
  column('deleted_at', time(expected.deletedAt), time(row.deletedAt));
  column('conflict_of', expected.conflictOf ?? 'null', row.conflictOf ?? 'null');
  column('favourite', String(expected.favourite), String(row.favourite));
  if (JSON.stringify(expected.tags) !== JSON.stringify(row.tags)) {
    const tagsText = (tags: unknown) => (Array.isArray(tags) ? tags.map((tag) => nameText(String(tag))).join(', ') || '(none)' : 'not a list of tags');
    const want = tagsText(expected.tags);
    const have = tagsText(row.tags);
    out.push({ column: 'tags', expected: want, found: have === want ? `${have} (sealed, different values)` : have });
  }
  out.push(...compareFields(expected.fields, row.fields));
  return out;
}

function compareFields(expected: Field[], stored: unknown): ColumnDifference[] {
  if (!isFieldList(stored)) return [{ column: 'fields', expected: `a list of ${expected.length} fields`, found: 'not a list of fields' }];
  const out: ColumnDifference[] = [];
  const found = new Map(stored.map((f) => [f.name, f]));
  const wanted = new Map(expected.map((f) => [f.name, f]));
  for (const field of expected) {
    const got = found.get(field.name);
    if (!got) {
      out.push({ column: `fields.${field.name}`, expected: displayValue(shownValue(field.value, field.sensitive)), found: 'missing' });
      continue;
    }
    if (got.sensitive !== field.sensitive) out.push({ column: `fields.${field.name}.sensitive`, expected: String(field.sensitive), found: String(got.sensitive) });
    if (got.value !== field.value) {
      const sensitive = field.sensitive || got.sensitive;
      const want = displayValue(shownValue(field.value, sensitive));
      const have = displayValue(shownValue(got.value, sensitive));
      out.push({ column: `fields.${field.name}`, expected: want, found: have === want ? `${have.slice(0, -1)}, a different value)` : have });
    }
  }
  for (const field of stored) {
    if (!wanted.has(field.name)) out.push({ column: `fields.${field.name}`, expected: 'absent', found: displayValue(shownValue(field.value, field.sensitive)) });
  }
  if (out.length === 0 && expected.map((f) => f.name).join('\n') !== stored.map((f) => f.name).join('\n')) {
    out.push({ column: 'fields (order)', expected: expected.map((f) => f.name).join(', '), found: stored.map((f) => f.name).join(', ') });
  }
  return out;
}

function isFieldList(value: unknown): value is Field[] {
  return (
    Array.isArray(value) &&
    value.every(
      (f) => typeof f === 'object' && f !== null && typeof f.name === 'string' && typeof f.value === 'string' && typeof f.sensitive === 'boolean',
    )
  );
}

/** A sealed name on both sides would print the same "(sealed)": say that they differ. */
function nameText(name: string): string {
  return looksSealed(name) ? '(sealed)' : JSON.stringify(name);
}

function time(ms: number | null): string {
  return ms === null ? 'null' : new Date(ms).toISOString();
}

function describeState(state: RecordState): string {
  return `${nameText(state.name)}, version ${state.version}${state.deletedAt !== null ? ', deleted' : ''}`;
}

function describeRow(row: ReadModelRow): string {
  return `${nameText(row.name)}, version ${row.version}${row.deletedAt !== null ? ', deleted' : ''}`;
}
