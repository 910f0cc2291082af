import { createRequire } from 'node:module';
import { charWidth, textWidth } from './text.js';

/** The parts of blessed's unicode module that decide how many cells a character takes. */
interface BlessedUnicode {
  codePointAt(text: string, index: number): number;
  charWidth(text: string | number, index?: number): number;
  strWidth(text: string): number;
  combining: Record<number, boolean>;
  chars: { all: unknown };
}

let done = false;

/**
 * Makes blessed measure characters as the rest of the TUI does (text.ts). Its own tables predate
 * most emoji: it put an emoji in one cell while the terminal drew two, so everything after it on
 * the row moved one column right ("(iensitive)"), and its diff painting later left pieces behind.
 * blessed reads these functions from its module object at every use, so replacing them there is
 * enough: the padding cell after a wide character, the cell a zero-width one joins, and widths.
 */
export function measureBlessedLikeKeeper(): void {
  if (done) return;
  done = true;
  const unicode = createRequire(import.meta.url)('blessed/lib/unicode.js') as BlessedUnicode;
  const width = (cp: number) => (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? 0 : charWidth(String.fromCodePoint(cp)));
  unicode.charWidth = (text, index = 0) => width(typeof text === 'number' ? text : unicode.codePointAt(text, index));
  unicode.strWidth = (text) => textWidth(text);
  // Looked up by code point: zero-width printable characters join the cell before them.
  unicode.combining = new Proxy({} as Record<number, boolean>, {
    get: (_, key) => {
      const cp = typeof key === 'string' ? Number(key) : NaN;
      return Number.isInteger(cp) && cp >= 0xa0 && width(cp) === 0;
    },
  });
  // Used as `content.replace(chars.all, '$1\x03')`: a placeholder cell after every wide character.
  unicode.chars.all = {
    [Symbol.replace](text: string, replacement: string): string {
      let out = '';
      for (const char of text) out += charWidth(char) === 2 ? replacement.replace('$1', char) : char;
      return out;
    },
  };
}
