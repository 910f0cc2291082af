import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { ImageRendition } from '../../domain/images.js';
import type { AttachOutcome } from '../core/vault-handle.js';
import { displayFileName } from '../images/image-transfer.js';
import { Cancelled, describe } from './failures.js';
import type { Notices } from './notices.js';
import type { FileOpener } from './opener.js';
import { attachForm, attachOutcome, openablePath, unavailable, type ImageAction } from './screens/images.js';
import { needsLogin, type TuiAccount } from './account.js';
import type { Level, Overlay, Screen } from './state.js';
import type { SyncLoop } from './sync-loop.js';
import { RENDITION_NAMES } from './kit/view-model.js';
import { formatBytes } from '../../domain/byte-sizes.js';
import type { VaultView } from './vault-view.js';

export interface ImageActionsOptions {
  account: TuiAccount;
  screen: Screen;
  view: VaultView;
  notices: Notices;
  sync: SyncLoop;
  /** What "open" hands a saved image to (xdg-open). */
  opener: FileOpener;
  logger: Logger;
  /** Runs an action; whatever goes wrong becomes a message. */
  act: (work: () => Promise<void>) => void;
}

/** What the user does with the open record's images: attach a file, save a rendition, open it, remove the image. */
export class ImageActions {
  /** Downloads running now ("imageId/rendition"), so the same one is not started twice. */
  private readonly transfers = new Set<string>();

  constructor(private readonly o: ImageActionsOptions) {}

  private say(text: string, level: Level): void {
    this.o.notices.say(text, level);
  }

  /** Puts the focus on the open record's images (i), or says why there are none to choose. */
  focusImages(): void {
    const { view, screen } = this.o;
    const record = view.selected();
    if (!record) return this.say('there is no record open: choose one first', 'info');
    if (view.shownImages().length === 0) return this.say(`"${view.nameOf(record.id, record.id.slice(0, 8))}" has no images: a attaches one`, 'info');
    screen.main.focus = 'images';
    screen.main.imageIndex = Math.min(screen.main.imageIndex, view.shownImages().length - 1);
    this.say('choose an image with Up/Down; Enter shows what to do with it', 'info');
  }

  /** The menu of what to do with one image. */
  openMenu(imageId: string): void {
    this.o.screen.overlays.push({ kind: 'image', state: { imageId, selected: 0 } });
  }

  imageAction(imageId: string, action: ImageAction): void {
    if (action === 'remove') this.confirmRemoveImage(imageId);
    else if (action === 'open') this.o.act(() => this.openImage(imageId));
    else this.o.act(() => this.saveImage(imageId, action));
  }

  startAttach(): void {
    const { account, view } = this.o;
    const engine = account.engine;
    const record = view.selected();
    if (!engine || !record) return this.say('there is no record to attach an image to: choose one first', 'info');
    // Never send a picture of an encrypted vault in the clear.
    if (engine.encrypted && !engine.unlockedKey) return this.say('the vault is encrypted and locked: unlock it to attach images', 'error');
    this.o.screen.overlays.push({ kind: 'attach', state: attachForm(record.id, view.nameOf(record.id, record.id.slice(0, 8))), busy: false });
  }

  /** Uploads the file the prompt names (sealed first in an encrypted vault), then syncs so the image shows. */
  async attach(overlay: Extract<Overlay, { kind: 'attach' }>): Promise<void> {
    const { account, screen, notices, sync } = this.o;
    const chosen = attachOutcome(overlay.state);
    if (!chosen.ok) {
      overlay.state = { ...overlay.state, row: chosen.row };
      overlay.error = chosen.error;
      this.say(chosen.error, 'error');
      return;
    }
    const vault = account.vault;
    const engine = vault?.vault;
    if (!vault || !engine) return;
    if (engine.encrypted && !engine.unlockedKey) {
      overlay.error = 'the vault is encrypted and locked: unlock it to attach images';
      return this.say(overlay.error, 'error');
    }
    const recordId = overlay.state.recordId;
    const recordName = overlay.state.recordName;
    const name = chosen.fileName ?? basename(chosen.path);
    overlay.busy = true;
    overlay.error = undefined;
    overlay.progress = `uploading "${name}"...`;
    notices.progress(overlay.progress);
    let outcome: AttachOutcome;
    try {
      outcome = await vault.attachOrQueueImage({
        recordId,
        path: chosen.path,
        fileName: chosen.fileName,
        offline: account.connection === 'offline',
        onProgress: (done, total) => {
          overlay.progress = `uploading "${name}"... ${percent(done, total)} (${formatBytes(done)} of ${formatBytes(total)})`;
          notices.progress(overlay.progress);
        },
      });
    } catch (error) {
      overlay.busy = false;
      overlay.progress = undefined;
      if (needsLogin(error) || error instanceof Cancelled) throw error;
      overlay.error = `not attached: ${describe(error, account.server)}`;
      this.o.logger.info({ err: error }, 'attaching an image failed');
      this.say(overlay.error, 'error');
      return;
    }
    if (outcome.queued) {
      screen.overlays = screen.overlays.filter((o) => o !== overlay);
      this.say(`the server cannot be reached: "${name}" is kept on this machine${engine.encrypted ? ', sealed,' : ''} and will be sent to "${recordName}" at the next sync`, 'warn');
      return;
    }
    const response = outcome.response;
    screen.overlays = screen.overlays.filter((o) => o !== overlay);
    const imageId = response.image?.id;
    if (imageId) {
      sync.own(imageId);
      if (!engine.encrypted) sync.watch(imageId);
    }
    const next = engine.encrypted ? 'sealed here, its cover made here' : 'its cover and compact copy are being made';
    this.say(`${response.duplicate ? 'already attached' : 'attached'} "${name}" to "${recordName}"; ${next}`, 'info');
    await sync.syncNow('edit');
    // The new image is the chosen one, for i and the image keys.
    const index = screen.main.selectedId === recordId ? this.o.view.shownImages().findIndex((row) => row.id === imageId) : -1;
    if (index >= 0) screen.main.imageIndex = index;
  }

  /** Downloads a rendition into KEEPER_HOME/images/<id>/ (as `keeper image get` does) and remembers the path. */
  private async saveImage(imageId: string, rendition: ImageRendition): Promise<void> {
    const { account, notices } = this.o;
    const vault = account.vault;
    const image = vault?.vault.image(imageId);
    if (!vault || !image) return this.say('that image is gone (removed, or its record deleted)', 'warn');
    const row = this.o.view.rowOf(image);
    const why = unavailable(row, rendition);
    if (why) return this.say(why, 'info');
    const what = `the ${RENDITION_NAMES[rendition]} of "${row.name}"`;
    const transfer = `${imageId}/${rendition}`;
    if (this.transfers.has(transfer)) return this.say(`${what} is being saved already`, 'info');
    this.transfers.add(transfer);
    notices.progress(`saving ${what}...`);
    let path: string;
    try {
      path = await vault.saveImage({
        image,
        rendition,
        onProgress: (done, total) => notices.progress(`saving ${what}... ${percent(done, total)} (${formatBytes(done)} of ${formatBytes(total)})`),
      });
    } catch (error) {
      if (needsLogin(error) || error instanceof Cancelled) throw error;
      this.o.logger.info({ err: error }, 'saving an image failed');
      return this.say(`${what} was not saved: ${describe(error, account.server)}`, 'error');
    } finally {
      this.transfers.delete(transfer);
    }
    this.say(`saved ${what} to ${path}`, 'info');
  }

  /** Shows where the image is saved and hands the file to xdg-open when there is one; never waits for it. */
  private async openImage(imageId: string): Promise<void> {
    const { opener } = this.o;
    const image = this.o.account.engine?.image(imageId);
    if (!image) return this.say('that image is gone (removed, or its record deleted)', 'warn');
    const row = this.o.view.rowOf(image);
    const saved = openablePath(row);
    if (!saved) return this.say(`nothing of "${row.name}" is saved here yet: o saves the original`, 'info');
    const exists = await access(saved.path).then(
      () => true,
      () => false,
    );
    if (!exists) return this.say(`${saved.path} is gone from this machine: save it again to open it`, 'warn');
    if (!opener.command) return this.say(`no ${opener.name} here to open it with; the ${RENDITION_NAMES[saved.rendition]} is saved at ${saved.path}`, 'warn');
    await opener.open(saved.path);
    this.say(`opened ${saved.path} with ${opener.name}`, 'info');
  }

  private confirmRemoveImage(imageId: string): void {
    const { account, screen, view, sync } = this.o;
    const vault = account.vault;
    const image = vault?.vault.image(imageId);
    if (!vault || !image) return this.say('that image is gone (removed, or its record deleted)', 'warn');
    const name = displayFileName(image, vault.vault.unlockedKey);
    const recordName = view.nameOf(image.recordId, image.recordId.slice(0, 8));
    screen.overlays.push({
      kind: 'confirm',
      title: 'Remove image',
      text: `Remove the image "${name}" from "${recordName}"? Files saved on this machine stay where they are.`,
      yes: async () => {
        screen.overlays = screen.overlays.filter((o) => !(o.kind === 'image' && o.state.imageId === imageId));
        sync.own(imageId);
        await vault.removeImage(imageId);
        this.say(`removed the image "${name}" from "${recordName}"`, 'info');
        await sync.syncNow('edit');
      },
    });
  }
}

function percent(done: number, total: number): string {
  return total > 0 ? `${Math.min(100, Math.floor((done / total) * 100))}%` : '';
}
