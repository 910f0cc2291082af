import type { ImageActions } from './image-actions.js';
import type { Key } from './kit/keys.js';
import { editLine, line } from './kit/line-editor.js';
import type { Notices } from './notices.js';
import type { RecordActions } from './record-actions.js';
import { moveInList } from './screens/history.js';
import { IMAGE_ACTIONS } from './screens/images.js';
import { SCROLL_END, type Screen } from './state.js';
import type { SyncLoop } from './sync-loop.js';
import type { VaultAccess } from './vault-access.js';
import type { VaultView } from './vault-view.js';
import type { TransferActions } from './transfer-actions.js';

/** What the main screen's keys reach. */
export interface MainKeyContext {
  screen: Screen;
  view: VaultView;
  notices: Notices;
  records: RecordActions;
  images: ImageActions;
  transfers: TransferActions;
  sync: SyncLoop;
  access: VaultAccess;
  /** Rows in the list pane, for Page Up/Down. */
  listHeight: () => number;
  act: (work: () => Promise<void>) => void;
  quit: () => void;
}

/**
 * A key on the vault's main screen with no box over it: first the part with the focus (filter,
 * list, fields, images) may take it, then the commands that work from anywhere on it.
 */
export function mainKey(key: Key, c: MainKeyContext): void {
  const main = c.screen.main;
  if (main.focus === 'filter') {
    if (['enter', 'tab', 'down'].includes(key.full)) {
      main.focus = 'list';
      return;
    }
    if (key.full === 'escape') {
      // Esc gives up the filter, as the list and its empty hint say; Enter keeps it.
      if (main.filter.text) {
        main.filter = line();
        main.selectedId = undefined;
        main.selectedIndex = 0;
      }
      main.focus = 'list';
      return;
    }
    if (key.full === 'C-t') {
      main.filterSensitive = !main.filterSensitive;
      c.notices.say(main.filterSensitive ? 'the filter now looks inside sensitive values too (C-t again: not)' : 'the filter no longer looks inside sensitive values', 'info');
      return;
    }
    const edited = editLine(main.filter, key, 1000);
    if (edited && edited.text !== main.filter.text) {
      main.selectedId = undefined;
      main.selectedIndex = 0;
    }
    if (edited) main.filter = edited;
    return;
  }
  const model = c.view.listModel();
  if (main.focus === 'images') {
    if (imagesKey(key, c)) return;
  } else if (main.focus === 'list') {
    const moved = moveInList(main.selectedIndex, model.rows.length, key, c.listHeight());
    if (moved !== undefined) {
      main.selectedIndex = moved;
      main.selectedId = model.rows[moved]?.id;
      return;
    }
    switch (key.full) {
      case '/':
        main.focus = 'filter';
        return;
      case 'escape':
        if (main.filter.text) {
          main.filter = line();
          main.selectedIndex = 0;
        }
        return;
      case 'enter':
      case 'tab':
      case 'right':
        if (c.view.selected()?.fields.length) {
          main.focus = 'fields';
          main.fieldIndex = 0;
        }
        return;
      case 'c':
        if (c.view.selected()?.fields.length) {
          main.focus = 'fields';
          c.notices.say('choose a field with Up/Down and press c (or Enter) to copy it', 'info');
        }
        return;
    }
  } else {
    const record = c.view.selected();
    const count = record?.fields.length ?? 0;
    const moved = moveInList(main.fieldIndex, count, key, 5);
    if (moved !== undefined) {
      main.fieldIndex = moved;
      return;
    }
    switch (key.full) {
      case 'escape':
      case 'tab':
      case 'left':
        main.focus = 'list';
        return;
      case 'c':
      case 'enter':
        if (record) c.act(() => c.records.copyField(record, main.fieldIndex));
        return;
    }
  }
  switch (key.full) {
    case 'n':
      c.records.newRecord();
      return;
    case 'e':
      c.records.editSelected();
      return;
    case 'f':
      c.act(() => c.records.toggleFavourite());
      return;
    case 'd':
      c.records.confirmDelete();
      return;
    case 'h':
      c.act(() => c.records.openHistory(main.selectedId));
      return;
    case 'a':
      c.images.startAttach();
      return;
    case 'i':
      c.images.focusImages();
      return;
    case 'u':
      c.act(() => c.records.openDeleted());
      return;
    case 'r': {
      const id = main.selectedId;
      main.revealedId = id && main.revealedId !== id ? id : undefined;
      return;
    }
    case 's':
      void c.sync.syncNow('user');
      return;
    case 'm':
      c.screen.overlays.push({ kind: 'messages', top: SCROLL_END });
      return;
    case 'L':
      c.act(() => c.access.lock('manual'));
      return;
    case 'E':
      c.access.openSecretWord();
      return;
    case 'I':
      c.transfers.open('import');
      return;
    case 'X':
      c.transfers.open('export');
      return;
    case '?':
      c.screen.overlays.push({ kind: 'help', top: 0 });
      return;
    case 'q':
      c.quit();
      return;
  }
}

/** Keys while the focus is on the open record's images; false leaves the key to the common ones. */
function imagesKey(key: Key, c: MainKeyContext): boolean {
  const main = c.screen.main;
  const images = c.view.shownImages();
  const moved = moveInList(main.imageIndex, images.length, key, 5);
  if (moved !== undefined) {
    main.imageIndex = moved;
    return true;
  }
  const image = images[main.imageIndex];
  switch (key.full) {
    case 'escape':
    case 'tab':
    case 'left':
      main.focus = 'list';
      return true;
    case 'enter':
      if (image) c.images.openMenu(image.id);
      return true;
    case 'd':
      if (image) c.images.imageAction(image.id, 'remove');
      return true;
  }
  const direct = IMAGE_ACTIONS.find((entry) => entry.key === key.full);
  if (direct && image) {
    c.images.imageAction(image.id, direct.action);
    return true;
  }
  return false;
}
