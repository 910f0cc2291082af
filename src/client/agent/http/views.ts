import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { OpenedRecord } from '../../sync/record-crypto.js';
import type { HeldUser } from '../../users/held-users.js';
import type { VaultHandle } from '../../core/vault-handle.js';
import type { SyncEngine } from '../../sync/sync-engine.js';
import { fieldKindOf, type VaultRecord } from '../../../domain/record.js';
import { isSealed } from '../../crypto/index.js';
import type { recordSummary, recordView, syncView } from './schemas.js';
import { recordsByName } from '../../core/name-order.js';
import { AnswerBytes, EntryBlock, jsonPiece } from './answer-bytes.js';

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
 * Per replica revision (it moves with every edit, sync, lock and unlock): the summary JSON of
 * every live record, as UTF-8 in one block in name order, so that a search answer copies an entry
 * per hit and a page of the list copies one run of the block. The next revision's block copies
 * the entries of records unchanged since (records are never changed in place) and writes the
 * others. Records whose name or tags are sealed are left out: whether those open depends on the
 * lock, and nothing decrypted is kept here beyond the request that read it; their entries are
 * written for each answer. (Bytes outside the JavaScript heap, one buffer per replica: the
 * collector neither walks nor moves them.)
 */
const listings = new WeakMap<SyncEngine, { revision: number; block: EntryBlock<VaultRecord> }>();

function listingOf(vault: SyncEngine): EntryBlock<VaultRecord> {
  const kept = listings.get(vault);
  if (kept !== undefined && kept.revision === vault.revision) return kept.block;
  const open = (record: VaultRecord) => vault.open(record);
  const items: Array<{ key: string; source: VaultRecord }> = [];
  for (const record of recordsByName(vault)) if (!isSealed(record.name as unknown) && !hasSealedTags(record)) items.push({ key: record.id, source: record });
  const block = EntryBlock.build(items, (record) => JSON.stringify(summaryOf(record, open)), kept?.block);
  listings.set(vault, { revision: vault.revision, block });
  return block;
}

/** Summaries of one replica revision, written into answers. */
export class Summaries {
  constructor(
    private readonly vault: SyncEngine,
    private readonly block: EntryBlock<VaultRecord>,
  ) {}

  /** Adds a live record's summary to `answer` as the next element of a JSON array. */
  element(record: VaultRecord, answer: AnswerBytes, first: boolean): void {
    if (this.block.element(record.id, answer, first)) return;
    if (!first) answer.bytes(COMMA);
    answer.text(this.json(record));
  }

  /**
   * Adds `before` (when given) and `open`, then a live record's summary by id; false, with
   * nothing added, when there is no such live record (a search hit gone since, by a sync meanwhile).
   */
  byId(id: string, answer: AnswerBytes, before: Buffer | null, open: Buffer): boolean {
    const slot = this.block.slotOf(id);
    if (slot !== undefined) {
      if (before !== null) answer.bytes(before);
      this.block.copySlot(slot, answer.bytes(open));
      return true;
    }
    const record = this.vault.record(id);
    if (record === undefined) return false;
    if (before !== null) answer.bytes(before);
    answer.bytes(open).text(this.json(record));
    return true;
  }

  private json(record: VaultRecord): string {
    return JSON.stringify(summaryOf(record, (r) => this.vault.open(r)));
  }
}

export function summariesOf(vault: SyncEngine): Summaries {
  return new Summaries(vault, listingOf(vault));
}

/** Builds what a list and a search read (the entries, the search index) ahead of the first request. */
export function prepareListing(vault: SyncEngine): void {
  listingOf(vault);
  vault.prepareSearch();
}

function hasSealedTags(record: VaultRecord): boolean {
  return record.tags.some((tag) => isSealed(tag as unknown));
}

const COMMA = jsonPiece(',');

/**
 * Ends an answer begun as `{"<name>":[entries` with `],...rest}`; the rest is typed by the
 * answer's schema like any other answer.
 */
export function closeList(answer: AnswerBytes, rest: object): Buffer {
  const tail = JSON.stringify(rest);
  return answer.text(tail === '{}' ? ']}' : `],${tail.slice(1)}`).toBuffer();
}

/** Sends JSON built as bytes (a buffer with a JSON type is not serialized again). */
export function sendJsonBytes(reply: FastifyReply, json: Buffer): FastifyReply {
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
