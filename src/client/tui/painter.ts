import type { OpenedRecord } from '../sync/record-crypto.js';
import { drawLine } from './kit/line-editor.js';
import { mainLayout, overlayRect, scrollTop, tooSmall, MIN_HEIGHT, MIN_WIDTH, type MainLayout } from './kit/layout.js';
import { deletedLines, DELETED_HINT, historyLines, HISTORY_HINT } from './screens/history.js';
import { attachLines, attachTitle, IMAGE_MENU_HINT, imageMenuLines } from './screens/images.js';
import { transferLines, transferTitle } from './screens/transfer.js';
import { loginLines, loginTitle, secretLines } from './screens/login.js';
import { formLines, formTitle, FORM_HINT } from './screens/record-form.js';
import { secretWordLines, secretWordTitle } from './screens/secret-word.js';
import type { TuiAccount } from './account.js';
import type { MainState, Message, Mode, Overlay } from './state.js';
import { clip, escapeTags, fit, sanitize, wrap } from './kit/text.js';
import { detailLines, emptyListText, headerText, helpLines, listLine, listTitle, messageLines, statusText, type DetailLine, type ImageRow, type ListModel, type StatusInfo } from './kit/view-model.js';
import type { Widgets } from './widgets.js';

/** Everything a draw needs; the list and the open record are computed only when the vault shows. */
export interface PaintView {
  mode: Mode;
  overlays: Overlay[];
  main: MainState;
  messages: readonly Message[];
  current: Message | undefined;
  account: Pick<TuiAccount, 'engine' | 'user' | 'server' | 'connection' | 'syncing' | 'syncedAt'>;
  list: () => ListModel;
  selected: () => OpenedRecord | undefined;
  /** The open record's images. */
  images: () => ImageRow[];
  image: (imageId: string) => ImageRow | undefined;
}

/**
 * Draws the app's state into the blessed boxes: places them for the terminal's size and fills
 * them with lines from the view functions. It keeps scroll positions (the `top` fields) and
 * nothing else; no key or data changes here.
 */
export class Painter {
  /** Rows the message takes in this draw: overlays stay above them. */
  private messageRows = 1;

  constructor(
    private readonly w: Widgets,
    private readonly now: () => number,
  ) {}

  private statusInfo(view: PaintView): StatusInfo {
    const engine = view.account.engine;
    return {
      connection: view.account.connection,
      syncing: view.account.syncing,
      version: engine?.version ?? 0,
      syncedAt: view.account.syncedAt,
      pending: engine?.pendingCount ?? 0,
      lock: !engine?.encrypted ? 'not encrypted' : engine.unlocked ? 'unlocked' : 'locked',
    };
  }

  paint(view: PaintView): void {
    const w = this.w;
    const width = w.width;
    const height = w.height;
    const g = w.glyphs;
    const panes = [w.filter, w.list, w.detail];
    if (tooSmall(width, height)) {
      w.show([...panes, w.message, w.status, w.overlay], false);
      for (const box of panes) w.fill(box, []);
      w.place(w.header, { top: 0, left: 0, width, height });
      w.fill(w.header, wrap(`Keeper needs a terminal of at least ${MIN_WIDTH}x${MIN_HEIGHT} (this one is ${width}x${height}); q quits.`, width).map(escapeTags));
      w.render();
      return;
    }
    const message = view.current;
    const messageRows = message ? messageLines(message.text, width, g) : [''];
    this.messageRows = messageRows.length;
    const layout = mainLayout(width, height, messageRows.length);
    w.place(w.header, layout.header);
    w.place(w.message, layout.message);
    w.place(w.status, layout.status);
    w.show([w.message, w.status], true);
    const user = view.account.user;
    w.fill(w.header, [escapeTags(headerText(user && view.mode.kind === 'main' ? `${user.login} @ ${view.account.server}` : view.account.server, width, g))]);
    const status =
      view.mode.kind === 'login' ? fit(' not logged in', width, g) : view.account.engine ? statusText(this.statusInfo(view), width, this.now(), g) : fit(' opening the vault', width, g);
    w.fill(w.status, [escapeTags(status)]);
    const color = message?.level === 'error' ? 'red-fg' : message?.level === 'warn' ? 'yellow-fg' : undefined;
    w.fill(w.message, messageRows.map((row) => (color ? `{${color}}${escapeTags(row)}{/${color}}` : escapeTags(row))));

    if (view.mode.kind !== 'main' || !view.account.engine) {
      // Nothing of the vault stays on screen (or in blessed's buffers) behind these screens.
      w.show(panes, false);
      for (const box of panes) w.fill(box, []);
      this.paintPrompt(view.mode);
      w.render();
      return;
    }
    w.show(panes, true);
    w.place(w.filter, layout.filter);
    w.place(w.list, layout.list);
    w.place(w.detail, layout.detail);
    this.paintMain(view, layout);
    const overlay = view.overlays[view.overlays.length - 1];
    if (overlay) this.paintOverlay(view, overlay);
    else w.show([w.overlay], false);
    w.render();
  }

  private paintMain(view: PaintView, layout: MainLayout): void {
    const w = this.w;
    const g = w.glyphs;
    const main = view.main;
    const engine = view.account.engine!;
    const filterWidth = layout.filter.width - 2;
    w.focusBorder(w.filter, main.focus === 'filter');
    w.fill(w.filter, [
      main.focus !== 'filter' && main.filter.text === '' ? `{gray-fg}${fit('/ to filter', filterWidth)}{/gray-fg}` : drawLine(main.filter, filterWidth, { focused: main.focus === 'filter', glyphs: g }),
    ]);

    const model = view.list();
    const listWidth = layout.list.width - 2;
    const listHeight = layout.list.height - 2;
    main.listTop = scrollTop(model.rows.length, main.selectedIndex, listHeight, main.listTop);
    const rows: string[] = [];
    for (let i = main.listTop; i < Math.min(model.rows.length, main.listTop + listHeight); i++) {
      const text = escapeTags(listLine(model.rows[i]!, listWidth, this.now(), g));
      rows.push(i === main.selectedIndex ? (main.focus === 'fields' ? `{bold}{underline}${text}{/underline}{/bold}` : `{inverse}${text}{/inverse}`) : text);
    }
    if (model.rows.length === 0) rows.push(...wrap(emptyListText(model), listWidth).map(escapeTags));
    w.label(w.list, ` ${escapeTags(clip(listTitle(model), listWidth - 2, g))} `);
    w.focusBorder(w.list, main.focus === 'list');
    w.fill(w.list, rows);

    const detailWidth = layout.detail.width - 2;
    const detailHeight = layout.detail.height - 2;
    w.focusBorder(w.detail, main.focus === 'fields');
    const record = view.selected();
    if (!record) {
      w.fill(w.detail, []);
      return;
    }
    const conflictOf = record.conflictOf ? engine.record(record.conflictOf) : undefined;
    const images = view.images();
    const lines = detailLines(record, {
      revealed: main.revealedId === record.id,
      selectedField: main.focus === 'fields' ? main.fieldIndex : undefined,
      width: detailWidth,
      conflictOfName: conflictOf ? engine.open(conflictOf).name : undefined,
      images,
      selectedImage: main.focus === 'images' ? main.imageIndex : undefined,
      now: this.now(),
      glyphs: g,
    });
    const hint =
      main.focus === 'fields'
        ? 'Up/Down field  c copy  r reveal  Esc back'
        : main.focus === 'images'
          ? 'Enter save/open  x remove  Esc back'
          : images.length > 0
            ? 'Enter open  i images  a attach  e edit'
            : record.fields.length > 0
              ? 'Enter open  r reveal  e edit  d delete'
              : 'e edit  d delete  h history';
    const room = Math.max(1, detailHeight - 2);
    if (main.focus === 'fields') main.detailTop = scrollTo(lines, (l) => l.field === main.fieldIndex, room, main.detailTop);
    else if (main.focus === 'images') main.detailTop = scrollTo(lines, (l) => l.image === main.imageIndex, room, main.detailTop);
    else main.detailTop = 0;
    const shown = lines.slice(main.detailTop, main.detailTop + room).map((l) => l.text);
    while (shown.length < room) shown.push('');
    w.fill(w.detail, [...shown, '', `{gray-fg}${escapeTags(clip(hint, detailWidth, g))}{/gray-fg}`]);
  }

  /**
   * Draws the overlay box: a title, lines scrolled from `scroll.top` (moved just enough to show
   * line `scroll.focus`), and a key hint at the bottom, wrapped to as many lines as it needs (the
   * box grows by them). `want.height` counts the borders and the lines, not the hint. Returns the
   * top line shown.
   */
  private paintBox(title: string, lines: string[], hint: string, want: { width: number; height: number }, scroll: { top: number; focus?: number } = { top: 0 }): number {
    const w = this.w;
    const g = w.glyphs;
    const innerWidth = Math.max(10, Math.min(want.width, w.width - 2)) - 2;
    const plainHint = hint ? wrap(hint, innerWidth) : [];
    const rect = overlayRect(w.width, w.height, { width: want.width, height: want.height + plainHint.length }, this.messageRows);
    w.place(w.overlay, rect);
    w.show([w.overlay], true);
    w.overlay.setFront();
    const overflow = lines.length > rect.height - 2 - plainHint.length;
    const hintLines = hint && overflow ? wrap(`${hint}  ${g.down} more`, innerWidth) : plainHint;
    const room = Math.max(1, rect.height - 2 - hintLines.length);
    const start = scroll.focus !== undefined ? scrollTop(lines.length, scroll.focus, room, scroll.top) : Math.max(0, Math.min(scroll.top, lines.length - room));
    const shown = lines.slice(start, start + room);
    const shownHint = overflow && start + room >= lines.length ? wrap(hint, innerWidth) : hintLines;
    w.label(w.overlay, ` ${escapeTags(clip(sanitize(title, g), innerWidth - 2, g))} `);
    while (hint && shown.length < room) shown.push('');
    while (shownHint.length < hintLines.length) shownHint.unshift('');
    w.fill(w.overlay, [...shown, ...shownHint.map((l) => (l ? `{gray-fg}${escapeTags(l)}{/gray-fg}` : ''))]);
    return start;
  }

  private paintPrompt(mode: Mode): void {
    const w = this.w;
    const width = Math.min(68, w.width - 2);
    const inner = width - 2;
    switch (mode.kind) {
      case 'starting':
        this.paintBox('Keeper', ['', ` ${escapeTags(mode.text)}`, ''], '', { width, height: 5 });
        return;
      case 'login': {
        const lines = loginLines(mode.form, inner, w.glyphs);
        this.paintBox(loginTitle(mode.form), lines, '', { width, height: lines.length + 2 }, { top: 0, focus: 1 + mode.form.row * 2 });
        return;
      }
      case 'secret': {
        const lines = secretLines(mode.prompt, inner, w.glyphs);
        this.paintBox(mode.purpose === 'unlock' ? 'Keeper is locked' : 'Unlock', lines, '', { width, height: lines.length + 2 });
        return;
      }
      case 'paused': {
        const lines = ['', ...wrap(`${mode.reason} This vault has no secret word (keeper encrypt sets one), so Enter opens it again.`, inner - 2).map((l) => ` ${escapeTags(l)}`), '', ' Enter: continue   Esc: quit'];
        this.paintBox('Keeper is locked', lines, '', { width, height: lines.length + 2 });
        return;
      }
      case 'main':
        return;
    }
  }

  private paintOverlay(view: PaintView, overlay: Overlay): void {
    const w = this.w;
    const g = w.glyphs;
    const full = { width: w.width - 4, height: w.height };
    switch (overlay.kind) {
      case 'help': {
        const inner = Math.min(80, w.width - 2) - 2;
        const lines = helpLines(inner);
        overlay.top = this.paintBox('Keys', lines, 'Up/Down scroll  Esc close', { width: inner + 2, height: lines.length + 2 }, { top: overlay.top });
        return;
      }
      case 'messages': {
        const inner = full.width - 2;
        const lines = view.messages.flatMap((m) => {
          const time = new Date(m.at).toTimeString().slice(0, 8);
          const color = m.level === 'error' ? 'red-fg' : m.level === 'warn' ? 'yellow-fg' : undefined;
          return wrap(sanitize(m.text, g), inner - 10).map((l, i) => {
            const text = escapeTags(`${i === 0 ? time : ''.padEnd(8)}  ${l}`);
            return color ? `{${color}}${text}{/${color}}` : text;
          });
        });
        if (lines.length === 0) lines.push('No messages yet.');
        overlay.top = this.paintBox('Messages', lines, 'Up/Down scroll  Esc close', full, { top: overlay.top });
        return;
      }
      case 'confirm': {
        const width = Math.min(64, w.width - 2);
        const lines = ['', ...wrap(overlay.text, width - 4).map((l) => ` ${escapeTags(sanitize(l, g))}`), '', ' y: yes   n, Esc: no'];
        this.paintBox(overlay.title, lines, '', { width, height: lines.length + 2 });
        return;
      }
      case 'form': {
        const width = Math.min(80, w.width - 2);
        const { lines, focus } = formLines(overlay.form, width - 2, g);
        const hint = overlay.busy ? 'saving...' : FORM_HINT;
        overlay.top = this.paintBox(formTitle(overlay.form), lines, hint, { width, height: lines.length + 2 }, { top: overlay.top, focus });
        return;
      }
      case 'secret-word': {
        const width = Math.min(72, w.width - 2);
        const lines = secretWordLines(overlay.state, width - 2, { busy: overlay.busy }, g);
        this.paintBox(secretWordTitle(overlay.state), lines, '', { width, height: lines.length + 2 });
        return;
      }
      case 'transfer': {
        const width = Math.min(76, w.width - 2);
        const lines = transferLines(overlay.state, width - 2, { busy: overlay.busy, progress: overlay.progress, error: overlay.error }, g);
        this.paintBox(transferTitle(overlay.state), lines, '', { width, height: Math.min(lines.length + 2, w.height - 2) });
        return;
      }
      case 'attach': {
        const width = Math.min(72, w.width - 2);
        const lines = attachLines(overlay.state, width - 2, { busy: overlay.busy, progress: overlay.progress, error: overlay.error }, g);
        this.paintBox(attachTitle(overlay.state), lines, '', { width, height: lines.length + 2 });
        return;
      }
      case 'image': {
        const row = view.image(overlay.state.imageId);
        const width = Math.min(60, w.width - 2);
        const lines = row ? imageMenuLines(row, overlay.state, width - 2, g) : ['', ' This image is gone.', ''];
        this.paintBox(row ? row.name : 'Image', lines, IMAGE_MENU_HINT, { width, height: lines.length + 2 });
        return;
      }
      case 'history': {
        const rect = overlayRect(w.width, w.height, full, this.messageRows);
        const { lines, top } = historyLines(overlay.state, (v) => view.account.engine!.open(v.state), rect.width - 2, rect.height - 2 - wrap(HISTORY_HINT, rect.width - 2).length, g);
        overlay.state = { ...overlay.state, top };
        this.paintBox(overlay.title, lines, HISTORY_HINT, full);
        return;
      }
      case 'deleted': {
        const rect = overlayRect(w.width, w.height, full, this.messageRows);
        const { lines, top } = deletedLines(overlay.state, rect.width - 2, rect.height - 2 - wrap(DELETED_HINT, rect.width - 2).length, g);
        overlay.state = { ...overlay.state, top };
        this.paintBox('Deleted records', lines, DELETED_HINT, full);
        return;
      }
    }
  }
}

/** The detail pane's first line so that every line of the chosen item shows, scrolling as little as possible. */
function scrollTo(lines: DetailLine[], chosen: (line: DetailLine) => boolean, room: number, previousTop: number): number {
  const first = lines.findIndex(chosen);
  if (first < 0) return 0;
  let last = first;
  while (last + 1 < lines.length && chosen(lines[last + 1]!)) last++;
  let top = scrollTop(lines.length, last, room, previousTop);
  if (first < top) top = first;
  return top;
}
