import type { RecordState } from '../domain/decider.js';
import { isRecordEvent, type VaultEvent, type VaultEventType } from '../domain/events.js';
import type { Field } from '../domain/record.js';
import { VaultState } from '../domain/vault-state.js';
import { shownName, shownValue, type ShownValue } from './redact.js';
import { readEventPages, type StreamReader } from './replay.js';

/** One change an event made, in terms an operator reads; field values only where they may be shown. */
export type Change =
  | { what: 'name'; from?: string; to: string }
  | { what: 'kind'; from?: string; to: string }
  | ({
      what: 'field';
      field: string;
      change: 'added' | 'changed' | 'unchanged' | 'removed';
      /** True when the field is or was sensitive: then no value of it is given. */
      sensitive: boolean;
      from?: ShownValue;
      to?: ShownValue;
    })
  | { what: 'deleted' }
  /** Put back as it was at `fromVersion` (a deleted record comes back); its name, kind and field changes follow. */
  | { what: 'restored'; fromVersion: number; undeleted: boolean }
  /** Created as the conflict copy of another record. */
  | { what: 'conflictOf'; recordId: string }
  /** The vault key (wrapped by the user's secret word; never shown) was set or re-wrapped. */
  | { what: 'vaultKey'; keyId: string; rewrapped: boolean }
  /** An image of the record: attached (file name "(sealed)" when sealed), renditions made or failed, detached. */
  | { what: 'image'; imageId: string; change: 'attached' | 'renditions' | 'failed' | 'detached'; fileName?: string; size?: number; reason?: string };

export interface HistoryEntry {
  version: number;
  /** Unix ms when the server appended the event. */
  at: number;
  type: VaultEventType;
  /** Null for a vault-level event (VaultKeySet). */
  recordId: string | null;
  /** The record's name after the event (before it, for a delete); "(sealed)" for a sealed one. */
  recordName: string | null;
  clientId: string;
  mutationId: string;
  changes: Change[];
}

/** What `event` changed, judged against the state just before it. */
export function describeEvent(before: RecordState | undefined, event: VaultEvent, vaultKeyBefore: { keyId: string } | null = null): HistoryEntry {
  const changes: Change[] = [];
  let recordName = before?.name;
  switch (event.type) {
    case 'RecordCreated':
      recordName = event.data.name;
      changes.push({ what: 'name', to: shownName(event.data.name) }, { what: 'kind', to: event.data.kind });
      if (event.data.conflictOf !== undefined) changes.push({ what: 'conflictOf', recordId: event.data.conflictOf });
      for (const field of event.data.fields) changes.push(fieldChange(undefined, field));
      break;
    case 'RecordUpdated': {
      const data = event.data;
      if (data.name !== undefined && data.name !== before?.name) {
        changes.push({ what: 'name', ...(before ? { from: shownName(before.name) } : {}), to: shownName(data.name) });
        recordName = data.name;
      }
      if (data.kind !== undefined && data.kind !== before?.kind) changes.push({ what: 'kind', ...(before ? { from: before.kind } : {}), to: data.kind });
      const current = new Map((before?.fields ?? []).map((f) => [f.name, f]));
      const set = new Set(data.setFields.map((f) => f.name));
      for (const name of data.removeFields) {
        // A field removed and set again in one event is a replacement, reported once as set.
        if (set.has(name)) continue;
        changes.push({ what: 'field', field: name, change: 'removed', sensitive: current.get(name)?.sensitive ?? false });
      }
      for (const field of data.setFields) changes.push(fieldChange(data.removeFields.includes(field.name) ? undefined : current.get(field.name), field));
      break;
    }
    case 'RecordDeleted':
      changes.push({ what: 'deleted' });
      break;
    case 'RecordRestored': {
      const data = event.data;
      changes.push({ what: 'restored', fromVersion: data.fromVersion, undeleted: before?.deletedAt != null });
      if (data.name !== before?.name) changes.push({ what: 'name', ...(before ? { from: shownName(before.name) } : {}), to: shownName(data.name) });
      if (data.kind !== before?.kind) changes.push({ what: 'kind', ...(before ? { from: before.kind } : {}), to: data.kind });
      const next = new Set(data.fields.map((f) => f.name));
      const current = new Map((before?.fields ?? []).map((f) => [f.name, f]));
      for (const old of before?.fields ?? []) if (!next.has(old.name)) changes.push({ what: 'field', field: old.name, change: 'removed', sensitive: old.sensitive });
      for (const field of data.fields) {
        const change = fieldChange(current.get(field.name), field);
        if (change.what !== 'field' || change.change !== 'unchanged') changes.push(change);
      }
      recordName = data.name;
      break;
    }
    case 'VaultKeySet':
      changes.push({ what: 'vaultKey', keyId: event.data.keyId, rewrapped: vaultKeyBefore !== null });
      break;
    case 'ImageAttached':
      changes.push({
        what: 'image',
        imageId: event.data.imageId,
        change: 'attached',
        fileName: event.data.encrypted ? '(sealed)' : event.data.fileName,
        size: event.data.original.size,
      });
      break;
    case 'ImageRenditionsReady':
      changes.push({ what: 'image', imageId: event.data.imageId, change: 'renditions' });
      break;
    case 'ImageRenditionsFailed':
      changes.push({ what: 'image', imageId: event.data.imageId, change: 'failed', reason: event.data.reason });
      break;
    case 'ImageDetached':
      changes.push({ what: 'image', imageId: event.data.imageId, change: 'detached' });
      break;
  }
  return {
    version: event.version,
    at: event.metadata.at,
    type: event.type,
    recordId: recordOf(event),
    recordName: recordName === undefined ? null : shownName(recordName),
    clientId: event.metadata.clientId,
    mutationId: event.metadata.mutationId,
    changes,
  };
}

/** The record an event is about: its own events and its images' (null for the vault key). */
function recordOf(event: VaultEvent): string | null {
  return 'recordId' in event.data ? event.data.recordId : null;
}

function fieldChange(old: Field | undefined, field: Field): Change {
  const sensitive = field.sensitive || (old?.sensitive ?? false);
  if (!old) return { what: 'field', field: field.name, change: 'added', sensitive, to: shownValue(field.value, sensitive) };
  const same = old.value === field.value && old.sensitive === field.sensitive;
  return {
    what: 'field',
    field: field.name,
    change: same ? 'unchanged' : 'changed',
    sensitive,
    from: shownValue(old.value, sensitive),
    to: shownValue(field.value, sensitive),
  };
}

export interface HistoryOptions {
  streamVersion: number;
  /** Only the events of this record (full id). */
  recordId?: string;
  pageSize?: number;
  onEvents?: (count: number) => void;
}

/**
 * The timeline of a stream, page by page: each event with what it changed. The vault is folded
 * along the way (each change is judged against the state just before it), so memory is one vault
 * and one page whatever the stream's length.
 */
export async function* readHistory(reader: StreamReader, streamId: string, options: HistoryOptions): AsyncGenerator<HistoryEntry[]> {
  const state = new VaultState();
  const pages = readEventPages(reader, streamId, { to: options.streamVersion, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
  for await (const page of pages) {
    const entries: HistoryEntry[] = [];
    for (const event of page) {
      const recordId = recordOf(event);
      if (options.recordId === undefined || recordId === options.recordId) entries.push(describeEvent(recordId ? state.get(recordId) : undefined, event, state.vaultKey));
      state.apply(event);
    }
    options.onEvents?.(page.length);
    if (entries.length > 0) yield entries;
  }
}

/** The ids of the records in a stream's history that start with `prefix` (for --record by prefix). */
export async function recordIdsMatching(reader: StreamReader, streamId: string, streamVersion: number, prefix: string): Promise<string[]> {
  const found = new Set<string>();
  const wanted = prefix.toLowerCase();
  for await (const page of readEventPages(reader, streamId, { to: streamVersion })) {
    for (const event of page) if (isRecordEvent(event) && event.data.recordId.startsWith(wanted)) found.add(event.data.recordId);
  }
  return [...found];
}
