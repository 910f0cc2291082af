import type { RecordCommand, VaultCommand } from './commands.js';
import type { RecordState } from './decider.js';
import { DomainError } from './errors.js';
import { isRecordEvent, type VaultEvent } from './events.js';
import { applyLocally } from './local-apply.js';
import type { Field, RecordKind } from './record.js';

/** What the user is told after a rebase: which local change lost, and where it was kept. */
export interface ConflictNotice {
  recordId: string;
  /** The record's name as the user last saw it (sealed when the vault is encrypted). */
  recordName: string;
  kind: 'edit_lost' | 'edited_deleted_record' | 'delete_skipped' | 'restore_lost' | 'key_changed' | 'rejected';
  /** Parts of the record whose local value lost: field names, plus "name" / "kind" / "tags" / "favourite". */
  parts: string[];
  /** The conflict copy that keeps the local version, when one was made. */
  copyId?: string;
}

/** Re-seals a record's content for a copy with another id (sealed values are bound to their record). */
export type CopyContent = (
  content: { name: string; kind: RecordKind; fields: Field[]; tags: string[] },
  fromId: string,
  toId: string,
) => { name: string; fields: Field[]; tags: string[] };

export interface RebaseInput {
  /** Local commands not yet accepted by the server, oldest first. */
  pending: VaultCommand[];
  /** Server events after the version the pending commands were made against, in order. */
  serverEvents: VaultEvent[];
  /** Records before those events (the old synced state). */
  base: (recordId: string) => RecordState | undefined;
  /** Records after those events (the new synced state). */
  server: (recordId: string) => RecordState | undefined;
  /** The vault key id after the server events (null when not encrypted). */
  serverKeyId: string | null;
  newId: () => string;
  now: number;
  copyContent?: CopyContent;
}

export interface RebaseResult {
  pending: VaultCommand[];
  conflicts: ConflictNotice[];
  /** Pending mutation ids found among the server events: they landed earlier (a lost answer). */
  landed: string[];
}

interface Touched {
  name: boolean;
  kind: boolean;
  tags: boolean;
  favourite: boolean;
  fields: Set<string>;
  /** Deleted, restored or created: the record as a whole changed. */
  whole: boolean;
}

/**
 * Re-applies local commands on top of what the server accepted meanwhile. The server wins per
 * field: a local change to a name, kind or field that the server also changed is dropped, and
 * the record as the user had it is kept as a conflict copy so no edit is lost. A local delete of a
 * record changed elsewhere is skipped (the newer server version stays). Commands keep their
 * mutation ids, so a push that landed before its answer was lost is recognised, never doubled.
 */
export function rebase(input: RebaseInput): RebaseResult {
  const pendingIds = new Set(input.pending.map((c) => c.mutationId));
  const landed = input.serverEvents.filter((e) => pendingIds.has(e.id)).map((e) => e.id);
  const landedSet = new Set(landed);
  const remaining = input.pending.filter((c) => !landedSet.has(c.mutationId));

  const touched = new Map<string, Touched>();
  let keyChanged = false;
  for (const event of input.serverEvents) {
    if (landedSet.has(event.id)) continue;
    if (event.type === 'VaultKeySet') keyChanged = true;
    // Images come and go beside a record's content: they never conflict with an edit of it.
    if (!isRecordEvent(event)) continue;
    const t = touched.get(event.data.recordId) ?? { name: false, kind: false, tags: false, favourite: false, fields: new Set<string>(), whole: false };
    touched.set(event.data.recordId, t);
    switch (event.type) {
      case 'RecordUpdated':
        if (event.data.name !== undefined) t.name = true;
        if (event.data.kind !== undefined) t.kind = true;
        if (event.data.tags !== undefined) t.tags = true;
        if (event.data.favourite !== undefined) t.favourite = true;
        for (const f of event.data.setFields) t.fields.add(f.name);
        for (const name of event.data.removeFields) t.fields.add(name);
        break;
      default:
        t.whole = true;
    }
  }

  // The user's view of each record: the old synced state with every local command applied,
  // the landed ones included (the user saw them too, and later commands were made on top of them).
  const localView = new Map<string, RecordState | undefined>();
  const localBefore = new Map<string, RecordState | undefined>();
  let localVersion = Number.MAX_SAFE_INTEGER / 2;
  for (const command of input.pending) {
    if (command.type === 'SetVaultKey') continue;
    const before = localView.has(command.recordId) ? localView.get(command.recordId) : input.base(command.recordId);
    if (!localBefore.has(command.recordId)) localBefore.set(command.recordId, before);
    try {
      localView.set(command.recordId, applyLocally(before, command, input.now, localVersion++));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }

  const conflicts: ConflictNotice[] = [];
  const copies = new Map<string, string>();
  const out: VaultCommand[] = [];
  const nameOf = (recordId: string) => localView.get(recordId)?.name ?? localBefore.get(recordId)?.name ?? input.server(recordId)?.name ?? '';

  /**
   * One conflict copy per record per rebase, holding the record as the user last had it (every
   * local command applied, so later edits that lose too are in it); `fallback` when there is no view.
   */
  const copyOf = (recordId: string, fallback?: { name: string; kind: RecordKind; fields: Field[]; tags: string[]; favourite: boolean }): string | undefined => {
    const existing = copies.get(recordId);
    if (existing) return existing;
    const view = localView.get(recordId) ?? fallback;
    if (!view) return undefined;
    const copyId = input.newId();
    const content = { name: view.name, kind: view.kind, fields: view.fields, tags: view.tags };
    const copied = input.copyContent ? input.copyContent(content, recordId, copyId) : content;
    const copy: VaultCommand = { type: 'CreateRecord', mutationId: input.newId(), recordId: copyId, kind: view.kind, name: copied.name, fields: copied.fields, conflictOf: recordId };
    if (copied.tags.length > 0) copy.tags = copied.tags;
    if (view.favourite) copy.favourite = true;
    out.push(copy);
    copies.set(recordId, copyId);
    return copyId;
  };

  for (const command of remaining) {
    if (command.type === 'SetVaultKey') {
      if (keyChanged || command.replacesKeyId !== input.serverKeyId) {
        conflicts.push({ recordId: '', recordName: '', kind: 'key_changed', parts: [] });
      } else out.push(command);
      continue;
    }
    const t = touched.get(command.recordId);
    // A record id made elsewhere meanwhile can only be a derived one (an import of the same item
    // on another device): that record is the one this create meant, and the server's stays.
    if (command.type === 'CreateRecord' && t && input.server(command.recordId)) continue;
    if (!t || command.type === 'CreateRecord') {
      out.push(command);
      continue;
    }
    const server = input.server(command.recordId);
    const goneOnServer = !server || server.deletedAt !== null;
    switch (command.type) {
      case 'UpdateRecord': {
        if (goneOnServer) {
          const copyId = copyOf(command.recordId);
          noteOnce(conflicts, { recordId: command.recordId, recordName: nameOf(command.recordId), kind: 'edited_deleted_record', parts: [], ...(copyId ? { copyId } : {}) });
          break;
        }
        const lost: string[] = [];
        const kept: RecordCommand = { ...command, setFields: [], removeFields: [] };
        if (command.name !== undefined && (t.name || t.whole)) {
          lost.push('name');
          delete kept.name;
        }
        if (command.kind !== undefined && (t.kind || t.whole)) {
          lost.push('kind');
          delete kept.kind;
        }
        if (command.tags !== undefined && (t.tags || t.whole)) {
          lost.push('tags');
          delete kept.tags;
        }
        if (command.favourite !== undefined && (t.favourite || t.whole)) {
          lost.push('favourite');
          delete kept.favourite;
        }
        for (const field of command.setFields) (t.fields.has(field.name) || t.whole ? lost.push(field.name) : kept.setFields.push(field));
        for (const name of command.removeFields) (t.fields.has(name) || t.whole ? lost.push(name) : kept.removeFields.push(name));
        const changesSomething =
          kept.name !== undefined || kept.kind !== undefined || kept.tags !== undefined || kept.favourite !== undefined || kept.setFields.length > 0 || kept.removeFields.length > 0;
        if (changesSomething) out.push(kept);
        if (lost.length > 0) {
          const copyId = copyOf(command.recordId);
          mergeNotice(conflicts, { recordId: command.recordId, recordName: nameOf(command.recordId), kind: 'edit_lost', parts: lost, ...(copyId ? { copyId } : {}) });
        }
        break;
      }
      case 'DeleteRecord':
        if (!goneOnServer) conflicts.push({ recordId: command.recordId, recordName: nameOf(command.recordId), kind: 'delete_skipped', parts: [] });
        break;
      case 'RestoreRecord': {
        const copyId = copyOf(command.recordId, { name: command.name, kind: command.kind, fields: command.fields, tags: command.tags ?? [], favourite: command.favourite ?? false });
        conflicts.push({ recordId: command.recordId, recordName: command.name, kind: 'restore_lost', parts: [], ...(copyId ? { copyId } : {}) });
        break;
      }
    }
  }

  return { pending: dropRejected(out, input, conflicts), conflicts, landed };
}

/** Anything the new server state would still refuse is dropped and reported, never pushed. */
function dropRejected(commands: VaultCommand[], input: RebaseInput, conflicts: ConflictNotice[]): VaultCommand[] {
  const view = new Map<string, RecordState | undefined>();
  let version = Number.MAX_SAFE_INTEGER / 2;
  return commands.filter((command) => {
    if (command.type === 'SetVaultKey') return true;
    const before = view.has(command.recordId) ? view.get(command.recordId) : input.server(command.recordId);
    try {
      view.set(command.recordId, applyLocally(before, command, input.now, version++));
      return true;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      conflicts.push({ recordId: command.recordId, recordName: before?.name ?? '', kind: 'rejected', parts: [error.message] });
      return false;
    }
  });
}

function noteOnce(conflicts: ConflictNotice[], notice: ConflictNotice): void {
  if (!conflicts.some((c) => c.recordId === notice.recordId && c.kind === notice.kind)) conflicts.push(notice);
}

function mergeNotice(conflicts: ConflictNotice[], notice: ConflictNotice): void {
  const existing = conflicts.find((c) => c.recordId === notice.recordId && c.kind === notice.kind);
  if (!existing) conflicts.push(notice);
  else for (const part of notice.parts) if (!existing.parts.includes(part)) existing.parts.push(part);
}
