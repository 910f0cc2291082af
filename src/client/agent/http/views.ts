import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { OpenedRecord } from '../../sync/record-crypto.js';
import type { HeldUser } from '../../users/held-users.js';
import type { VaultHandle } from '../../core/vault-handle.js';
import type { SyncEngine } from '../../sync/sync-engine.js';
import { fieldKindOf, type VaultRecord } from '../../../domain/record.js';
import { isSealed } from '../../crypto/index.js';
import type { recordSummary, recordView, syncView } from './schemas.js';

/**
 * A record as the API shows it: values the vault cannot open (locked) are null and say so, never
 * their ciphertext; sensitive values are null and "masked" unless the caller asked to reveal.
 */
export function viewOf(record: OpenedRecord, reveal: boolean): z.output<typeof recordView> {
  const unreadable = new Set(record.unreadable);
  const view: z.output<typeof recordView> = {
    id: record.id,
    kind: record.kind,
    name: unreadable.has('name') ? null : record.name,
    fields: record.fields.map((field) => {
      const kind = fieldKindOf(field);
      if (unreadable.has(field.name)) return { name: field.name, value: null, sensitive: field.sensitive, hidden: 'locked' as const, kind };
      if (field.sensitive && !reveal) return { name: field.name, value: null, sensitive: true, hidden: 'masked' as const, kind };
      return { name: field.name, value: field.value, sensitive: field.sensitive, hidden: null, kind };
    }),
    tags: record.tags,
    tagsLocked: unreadable.has('tags'),
    favourite: record.favourite,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    version: record.version,
    sealed: record.sealed,
  };
  if (record.conflictOf !== undefined) view.conflictOf = record.conflictOf;
  return view;
}

/** A record as a list shows it: its name (opened only when sealed) and its field names, no values. */
export function summaryOf(record: VaultRecord, open: (record: VaultRecord) => OpenedRecord): z.output<typeof recordSummary> {
  const name: string = record.name;
  const sealed = isSealed(name as unknown) || record.fields.some((field) => isSealed(field.value as unknown)) || hasSealedTags(record);
  let shownName: string | null = name;
  let tags = record.tags;
  if (isSealed(name as unknown) || hasSealedTags(record)) {
    const opened = open(record);
    shownName = opened.unreadable.includes('name') ? null : opened.name;
    tags = opened.tags;
  }
  const summary: z.output<typeof recordSummary> = {
    id: record.id,
    kind: record.kind,
    name: shownName,
    fieldNames: record.fields.map((field) => field.name),
    tags,
    favourite: record.favourite,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    version: record.version,
    sealed,
  };
  if (record.conflictOf !== undefined) summary.conflictOf = record.conflictOf;
  return summary;
}

/**
 * The summary as JSON, kept beside the record while it lives (records are never changed in
 * place): lists and searches are most of the agent's answers, and building each entry again
 * every time cost more than the rest of the request. A sealed name is opened or not depending
 * on the lock, so those entries are built every time. (Strings, not buffers: a buffer per answer
 * costs an allocation outside the heap; a string is encoded straight into the socket's write.)
 */
const summaryJson = new WeakMap<VaultRecord, string>();

export function summaryJsonOf(record: VaultRecord, open: (record: VaultRecord) => OpenedRecord): string {
  let json = summaryJson.get(record);
  if (json === undefined) {
    json = JSON.stringify(summaryOf(record, open));
    if (!isSealed(record.name as unknown) && !hasSealedTags(record)) summaryJson.set(record, json);
  }
  return json;
}

/**
 * Per replica revision (it moves with every edit, sync, lock and unlock): the summary JSON of
 * every live record, by id, so that a search answer is a lookup per hit and nothing else. Built
 * from the per-record JSON above, so after a change only the changed records are written again.
 * Entries holding a name opened from its seal are left out (as above): nothing decrypted is kept
 * here beyond the request that read it.
 */
const entriesBy = new WeakMap<SyncEngine, { revision: number; byId: Map<string, string> }>();

function entriesOf(vault: SyncEngine): Map<string, string> {
  const kept = entriesBy.get(vault);
  if (kept !== undefined && kept.revision === vault.revision) return kept.byId;
  const open = (record: VaultRecord) => vault.open(record);
  const byId = new Map<string, string>();
  for (const record of vault.records()) if (!isSealed(record.name as unknown) && !hasSealedTags(record)) byId.set(record.id, summaryJsonOf(record, open));
  entriesBy.set(vault, { revision: vault.revision, byId });
  return byId;
}

/** A live record's summary JSON by id (undefined when there is no such live record). */
export function summaryJsonById(vault: SyncEngine, id: string): string | undefined {
  const json = entriesOf(vault).get(id);
  if (json !== undefined) return json;
  const record = vault.record(id);
  return record && summaryJsonOf(record, (r) => vault.open(r));
}

/** A live record's summary JSON, from the revision's entries when it is there. */
export function summaryJsonIn(vault: SyncEngine, record: VaultRecord): string {
  return entriesOf(vault).get(record.id) ?? summaryJsonOf(record, (r) => vault.open(r));
}

/** Builds what a list and a search read (the entries, the search index) ahead of the first request. */
export function prepareListing(vault: SyncEngine): void {
  entriesOf(vault);
  vault.prepareSearch();
}

function hasSealedTags(record: VaultRecord): boolean {
  return record.tags.some((tag) => isSealed(tag as unknown));
}

/**
 * An answer whose entries are JSON already: `{"<name>":[entries],...rest}`. The rest is typed by
 * the answer's schema like any other answer.
 */
export function jsonWithList(name: string, entries: readonly string[], rest: object): string {
  const tail = JSON.stringify(rest);
  // (Appending makes a rope the socket write reads once; join copied every entry into a new string first.)
  let json = `{${JSON.stringify(name)}:[`;
  for (let i = 0; i < entries.length; i++) json += i === 0 ? entries[i]! : `,${entries[i]!}`;
  return `${json}]${tail === '{}' ? '' : `,${tail.slice(1, -1)}`}}`;
}

/** Sends JSON built by `jsonWithList` as it is (a string body with a JSON type is not serialized again). */
export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

export function syncViewOf(user: HeldUser, handle: VaultHandle): z.output<typeof syncView> {
  return {
    version: handle.vault.version,
    pending: handle.vault.pendingCount,
    stale: user.sync.stale,
    lastSyncAt: user.sync.lastSyncAt === null ? null : new Date(user.sync.lastSyncAt).toISOString(),
    problem: user.sync.problem,
  };
}

/** A yes/no query parameter: 1 or true. */
export function flagOn(value: string | undefined): boolean {
  return value === '1' || value === 'true';
}

export function wantsReveal(value: string | undefined): boolean {
  return flagOn(value);
}
