import type { ImageStatus } from '../../domain/images.js';
import { displayFileName } from '../images/image-transfer.js';
import { describeConflict } from '../sync/conflict-notices.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import type { SyncReport } from '../sync/sync-protocol.js';
import type { Level, MainState, Overlay } from './state.js';

/** What a sync brought that the user should hear about, said on the message line. */

export type SyncWhy = 'start' | 'auto' | 'user' | 'edit';

/** What a sync's news is measured against. */
export interface BeforeSync {
  /** The versions of the open record and of records being edited (undefined: not there). */
  versions: Map<string, number | undefined>;
  images: Map<string, ImageStatus>;
}

/** The versions of the records on screen (open, or in an edit form) and every image's status. */
export function beforeSync(engine: SyncEngine, main: MainState, overlays: readonly Overlay[]): BeforeSync {
  const ids = [main.selectedId, ...overlays.map((o) => (o.kind === 'form' ? o.form.recordId : undefined))];
  const versions = new Map<string, number | undefined>();
  for (const id of ids) if (id) versions.set(id, engine.record(id)?.version);
  return { versions, images: new Map(engine.allImages().map((image) => [image.id, image.status])) };
}

export interface SyncNewsContext {
  engine: SyncEngine;
  server: string;
  why: SyncWhy;
  /** The server could not be reached before this sync. */
  wasOffline: boolean;
  main: MainState;
  overlays: readonly Overlay[];
  /** Images attached or removed from here: not news from elsewhere. */
  ownImages: ReadonlySet<string>;
  nameOf: (recordId: string, fallback: string) => string;
  say: (text: string, level: Level) => void;
}

export function reportSync(report: SyncReport, before: BeforeSync, c: SyncNewsContext): void {
  const { engine, say } = c;
  // The plain news first, so that anything more important said below stays on the message line.
  if (c.why === 'user') say(`synced: version ${report.version}${report.pushed ? `, ${report.pushed} change(s) pushed` : ''}${report.pulled ? `, ${report.pulled} pulled` : ''}`, 'info');
  if (c.wasOffline) say(`back online: synced with ${c.server}`, 'info');
  for (const conflict of report.conflicts) say(describeConflict(conflict, c.nameOf(conflict.recordId, conflict.recordName)), 'warn');
  if (report.conflicts.length > 1) say(`${report.conflicts.length} conflicts in this sync: press m to read them all`, 'warn');
  // Image events name their record too: the record itself changed only if its version moved.
  const changed = new Set(report.changed.filter((id) => !before.versions.has(id) || engine.record(id)?.version !== before.versions.get(id)));
  const shown = c.main.selectedId;
  const shownRecord = shown ? engine.record(shown) : undefined;
  if (shown && changed.has(shown) && report.conflicts.length === 0) {
    if (shownRecord) say(`"${c.nameOf(shown, '')}" was changed elsewhere: showing the new version`, 'info');
    else say(`"${c.main.shownName ?? shown.slice(0, 8)}" was deleted elsewhere`, 'warn');
  }
  reportImages(before.images, report, c);
  for (const overlay of c.overlays) {
    if (overlay.kind === 'form' && overlay.form.recordId && changed.has(overlay.form.recordId)) {
      say('this record was changed elsewhere while you edit it: saving changes only the parts you changed', 'warn');
    }
  }
}

/**
 * Says which images finished processing (or failed), and which arrived from elsewhere on the open
 * record; several at once are counted rather than named one by one.
 */
function reportImages(before: Map<string, ImageStatus>, report: SyncReport, c: SyncNewsContext): void {
  const { engine, say } = c;
  const ready: string[] = [];
  const failed: string[] = [];
  const arrived: string[] = [];
  for (const image of engine.allImages()) {
    const was = before.get(image.id);
    const name = displayFileName(image, engine.unlockedKey);
    if (was === 'processing' && image.status === 'ready') ready.push(`"${name}"`);
    else if (was === 'processing' && image.status === 'failed') failed.push(`"${name}" could not be processed: ${image.failure ?? 'no reason given'}`);
    // A first sync or a snapshot brings everything at once: that is not news from elsewhere.
    else if (was === undefined && report.transfer === 'events' && c.why !== 'start' && image.recordId === c.main.selectedId && !c.ownImages.has(image.id)) arrived.push(`"${name}"`);
  }
  if (ready.length === 1) say(`${ready[0]} is ready: its cover and compact copy were made`, 'info');
  else if (ready.length > 1) say(`${ready.length} images are ready: their covers and compact copies were made`, 'info');
  if (arrived.length > 0) say(`"${c.nameOf(c.main.selectedId!, '')}" got ${arrived.length === 1 ? `an image from elsewhere: ${arrived[0]}` : `${arrived.length} images from elsewhere`}`, 'info');
  for (const failure of failed.slice(0, 10)) say(failure, 'warn');
  if (failed.length > 10) say(`and ${failed.length - 10} more images could not be processed (keeper image ls says why)`, 'warn');
}
