import type { SqlExecutor } from '../sql/database.js';
import type { BlobStore } from './blob-store.js';

export interface CollectOptions {
  /** A blob younger than this is kept whatever the log says: its upload may not have appended its event yet. */
  graceMs: number;
  /** Images of a deleted record are kept this long, so restoring the record brings them back. */
  deletedRecordRetentionMs: number;
  now?: number;
}

export interface CollectReport {
  blobs: number;
  referenced: number;
  removed: number;
  removedBytes: number;
  /** Unfinished uploads left by a crash. */
  removedTemporary: number;
}

const IMAGE_EVENT_TYPES = ['ImageAttached', 'ImageRenditionsReady', 'ImageDetached', 'RecordDeleted', 'RecordRestored'];

/**
 * Removes blobs no image refers to any more. What is referenced is read from the event log (the
 * source of truth), not the read model, so a lagging or rebuilding projector can never make a
 * live image look unreferenced. A blob stays while any image of a live record uses it, or of a
 * record deleted less than the retention ago, or while it is younger than the grace period.
 */
export async function collectBlobs(db: SqlExecutor, blobs: BlobStore, options: CollectOptions): Promise<CollectReport> {
  const now = options.now ?? Date.now();
  const referenced = await referencedAddresses(db, now - options.deletedRecordRetentionMs);
  const report: CollectReport = { blobs: 0, referenced: referenced.size, removed: 0, removedBytes: 0, removedTemporary: await blobs.sweepTemporary(now - options.graceMs) };
  for await (const blob of blobs.list()) {
    report.blobs++;
    if (referenced.has(blob.address) || blob.modifiedAt > now - options.graceMs) continue;
    await blobs.remove(blob.address);
    report.removed++;
    report.removedBytes += blob.size;
  }
  return report;
}

interface ImageRefs {
  recordId: string;
  addresses: string[];
  detached: boolean;
}

/** Addresses of every image still attached to a live record, or to one deleted after `deletedSince`. */
async function referencedAddresses(db: SqlExecutor, deletedSince: number): Promise<Set<string>> {
  const rows = await db.query<{ stream_id: string; type: string; data: Record<string, unknown>; created_at: Date }>(
    `SELECT stream_id, type, data, created_at FROM events WHERE type = ANY($1::text[]) ORDER BY stream_id, version`,
    [IMAGE_EVENT_TYPES],
  );
  const images = new Map<string, ImageRefs>();
  // Per stream and record: when the record was deleted (null while live).
  const deletedAt = new Map<string, number | null>();
  for (const row of rows) {
    const data = row.data;
    const recordKey = `${row.stream_id}/${String(data.recordId)}`;
    const imageKey = `${row.stream_id}/${String(data.imageId)}`;
    switch (row.type) {
      case 'RecordDeleted':
        deletedAt.set(recordKey, row.created_at.getTime());
        break;
      case 'RecordRestored':
        deletedAt.set(recordKey, null);
        break;
      case 'ImageAttached':
        images.set(imageKey, { recordId: recordKey, addresses: [addressOf(data.original)], detached: false });
        break;
      case 'ImageRenditionsReady': {
        const image = images.get(imageKey);
        image?.addresses.push(addressOf(data.cover), addressOf(data.compact));
        break;
      }
      case 'ImageDetached': {
        const image = images.get(imageKey);
        if (image) image.detached = true;
        break;
      }
    }
  }
  const referenced = new Set<string>();
  for (const image of images.values()) {
    if (image.detached) continue;
    const deleted = deletedAt.get(image.recordId) ?? null;
    if (deleted !== null && deleted < deletedSince) continue;
    for (const address of image.addresses) if (address) referenced.add(address);
  }
  return referenced;
}

function addressOf(info: unknown): string {
  const address = (info as { address?: unknown } | undefined)?.address;
  return typeof address === 'string' ? address : '';
}
