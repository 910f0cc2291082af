import blessed from 'blessed';
import { measureBlessedLikeKeeper } from './kit/blessed-widths.js';
import type { Key } from './kit/keys.js';
import { keyFromBlessed } from './kit/keys.js';
import type { Rect } from './kit/layout.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS, type Glyphs } from './kit/text.js';

type Box = blessed.Widgets.BoxElement;

interface TputFlags {
  unicode?: boolean;
  brokenACS?: boolean;
  numbers?: Record<string, number>;
}

/**
 * The blessed screen and its boxes. The app computes every box's place and content itself on
 * each draw (contents come from the pure view functions); blessed only paints the difference,
 * reads keys and reports resizes.
 */
export class Widgets {
  readonly screen: blessed.Widgets.Screen;
  readonly header: Box;
  readonly filter: Box;
  readonly list: Box;
  readonly detail: Box;
  readonly message: Box;
  readonly status: Box;
  readonly overlay: Box;
  readonly glyphs: Glyphs;

  constructor() {
    measureBlessedLikeKeeper();
    this.screen = blessed.screen({ smartCSR: true, fullUnicode: true, autoPadding: false, warnings: false, title: 'Keeper' });
    const tput = (this.screen as unknown as { tput: TputFlags }).tput;
    const unicode = Boolean(tput.unicode) || tput.numbers?.U8 === 1;
    // Box lines are drawn as UTF-8 (or ASCII) characters, never through the terminal's
    // alternate character set: blessed's ACS output is garbled under tmux-256color and xterm-256color.
    tput.brokenACS = true;
    this.glyphs = unicode ? UNICODE_GLYPHS : ASCII_GLYPHS;
    const plain = { parent: this.screen, tags: true, wrap: false, top: 0, left: 0, width: 1, height: 1 } as const;
    const framed = { ...plain, border: { type: 'line' as const }, style: { border: { fg: 'gray' } } };
    this.header = blessed.box({ ...plain, style: { bold: true } });
    this.filter = blessed.box({ ...framed, label: ' Filter ' });
    this.list = blessed.box({ ...framed, label: ' Records ' });
    this.detail = blessed.box({ ...framed, label: ' Record ' });
    this.message = blessed.box({ ...plain });
    this.status = blessed.box({ ...plain, style: { inverse: true } });
    this.overlay = blessed.box({ ...framed, style: { border: { fg: 'cyan' } }, hidden: true });
    this.screen.program.hideCursor();
  }

  get width(): number {
    return Number(this.screen.width);
  }

  get height(): number {
    return Number(this.screen.height);
  }

  onKey(handler: (key: Key) => void): void {
    this.screen.on('keypress', (ch: string | undefined, raw: Parameters<typeof keyFromBlessed>[1]) => {
      if (raw?.meta && raw.name !== 'escape') {
        // Esc and a key typed quickly after it arrive as one Alt-key: the UI has no Alt keys, so
        // they are taken apart again (Esc closes the form, then "d" deletes, as typed).
        handler(keyFromBlessed('\u001b', { name: 'escape', full: 'escape' })!);
        const plain = keyFromBlessed(ch?.replace(/^\u001b/, ''), { ...raw, meta: false, full: raw.full?.replace('M-', '') });
        if (plain) handler(plain);
        return;
      }
      const key = keyFromBlessed(ch, raw);
      if (key) handler(key);
    });
  }

  onResize(handler: () => void): void {
    this.screen.on('resize', handler);
  }

  place(box: Box, rect: Rect): void {
    box.top = rect.top;
    box.left = rect.left;
    box.width = Math.max(1, rect.width);
    box.height = Math.max(1, rect.height);
  }

  /** Sets a box's lines; an empty list also empties what blessed keeps of the old content. */
  fill(box: Box, lines: string[]): void {
    box.setContent(lines.join('\n'));
  }

  label(box: Box, text: string | undefined): void {
    if (text === undefined) box.removeLabel();
    else box.setLabel(text);
  }

  focusBorder(box: Box, focused: boolean): void {
    const style = box.style as { border?: { fg?: string } };
    style.border = { ...style.border, fg: focused ? 'cyan' : 'gray' };
  }

  show(boxes: Box[], visible: boolean): void {
    for (const box of boxes) {
      if (visible) box.show();
      else box.hide();
    }
  }

  render(): void {
    this.screen.render();
  }

  destroy(): void {
    this.screen.destroy();
  }
}
