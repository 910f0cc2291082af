import type { ImageState } from '../../domain/images.js';
import { displayFileName } from '../images/image-transfer.js';
import type { OpenedRecord } from '../sync/record-crypto.js';
import type { TuiAccount } from './account.js';
import type { CachedList, Screen } from './state.js';
import { imageRow, LIST_LIMIT, listModel, type ImageRow, type ListModel } from './kit/view-model.js';

/**
 * The vault as the main screen shows it, read from the account's vault: the (filtered) list, the
 * open record, its images, and names for messages. It keeps the searched list until the data or
 * the filter changes, and keeps the selection in line with the list.
 */
export class VaultView {
  private list: CachedList | undefined;
  /** Bumped whenever the engine's data may have changed, so the list is searched again. */
  private dataVersion = 0;

  constructor(
    private readonly account: TuiAccount,
    private readonly screen: Screen,
  ) {}

  /** The engine's data may have changed: search the list again on the next draw. */
  changed(): void {
    this.dataVersion++;
  }

  /** Drops the searched list (its names included) until the next draw searches again. */
  forget(): void {
    this.list = undefined;
  }

  listModel(): ListModel {
    const engine = this.account.engine!;
    const main = this.screen.main;
    const key = `${this.dataVersion}\u0000${main.filterSensitive}\u0000${main.filter.text}`;
    if (this.list?.key !== key) {
      this.list = { key, model: listModel((query, options) => engine.search(query, { ...options, includeSensitive: main.filterSensitive }), main.filter.text, LIST_LIMIT, main.filterSensitive) };
    }
    return this.list.model;
  }

  /** The open record, decrypted. */
  selected(): OpenedRecord | undefined {
    const engine = this.account.engine;
    const id = this.screen.main.selectedId;
    const record = engine && id ? engine.record(id) : undefined;
    return record ? engine!.open(record) : undefined;
  }

  nameOf(recordId: string, fallback: string): string {
    const engine = this.account.engine;
    const record = engine?.record(recordId);
    if (!record) return fallback;
    const opened = engine!.open(record);
    return opened.unreadable.includes('name') ? recordId.slice(0, 8) : opened.name;
  }

  /** The open record's images as the detail pane shows them. */
  shownImages(): ImageRow[] {
    const engine = this.account.engine;
    const id = this.screen.main.selectedId;
    if (!engine || !id || !engine.record(id)) return [];
    return engine.imagesOf(id).map((image) => this.rowOf(image));
  }

  rowOf(image: ImageState): ImageRow {
    const engine = this.account.engine!;
    return imageRow(image, displayFileName(image, engine.unlockedKey), engine.imageFilesOf(image.id));
  }

  /** One image as a row, or undefined when it is gone. */
  imageRow(imageId: string): ImageRow | undefined {
    const image = this.account.engine?.image(imageId);
    return image ? this.rowOf(image) : undefined;
  }

  /** Brings the selection in line with the list (a record gone or filtered out); runs before each draw of the vault. */
  reconcileSelection(): void {
    const main = this.screen.main;
    const model = this.listModel();
    let index = model.rows.findIndex((row) => row.id === main.selectedId);
    if (index < 0) index = Math.min(main.selectedIndex, model.rows.length - 1);
    main.selectedIndex = Math.max(0, index);
    const row = model.rows[index];
    if (row?.id !== main.selectedId) {
      main.fieldIndex = 0;
      main.imageIndex = 0;
      main.detailTop = 0;
      if (main.focus === 'fields' || main.focus === 'images') main.focus = 'list';
    }
    main.selectedId = row?.id;
    const images = this.shownImages().length;
    main.imageIndex = Math.max(0, Math.min(main.imageIndex, images - 1));
    if (main.focus === 'images' && images === 0) main.focus = 'list';
    // A menu of an image removed meanwhile (here or elsewhere) has nothing left to act on.
    this.screen.overlays = this.screen.overlays.filter((o) => o.kind !== 'image' || this.account.engine!.image(o.state.imageId) !== undefined);
    const record = this.selected();
    if (record) main.shownName = record.unreadable.includes('name') ? undefined : record.name;
  }
}
