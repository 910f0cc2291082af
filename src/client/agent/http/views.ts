import type { z } from 'zod';
import type { OpenedRecord } from '../../sync/record-crypto.js';
import type { HeldUser } from '../../users/held-users.js';
import type { VaultHandle } from '../../core/vault-handle.js';
import type { VaultRecord } from '../../../domain/record.js';
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
      if (unreadable.has(field.name)) return { name: field.name, value: null, sensitive: field.sensitive, hidden: 'locked' as const };
      if (field.sensitive && !reveal) return { name: field.name, value: null, sensitive: true, hidden: 'masked' as const };
      return { name: field.name, value: field.value, sensitive: field.sensitive, hidden: null };
    }),
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
  const sealed = isSealed(name as unknown) || record.fields.some((field) => isSealed(field.value as unknown));
  let shownName: string | null = name;
  if (isSealed(name as unknown)) {
    const opened = open(record);
    shownName = opened.unreadable.includes('name') ? null : opened.name;
  }
  const summary: z.output<typeof recordSummary> = {
    id: record.id,
    kind: record.kind,
    name: shownName,
    fieldNames: record.fields.map((field) => field.name),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    version: record.version,
    sealed,
  };
  if (record.conflictOf !== undefined) summary.conflictOf = record.conflictOf;
  return summary;
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

export function wantsReveal(value: string | undefined): boolean {
  return value === '1' || value === 'true';
}
