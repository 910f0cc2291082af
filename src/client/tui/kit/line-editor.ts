import { typed, type Key } from './keys.js';
import { charWidth, escapeTags, sanitize, UNICODE_GLYPHS, type Glyphs } from './text.js';

/** One line of text being typed, with the cursor counted in characters (code points). */
export interface LineState {
  text: string;
  cursor: number;
}

export function line(text = ''): LineState {
  return { text, cursor: Array.from(text).length };
}

/**
 * The editing keys of a one-line text box (typing, Backspace/Delete, Left/Right, Home/End, C-a,
 * C-e, C-u to clear, C-w to drop a word). Undefined when the key is not an editing key, so the
 * caller can give it another meaning (Enter, Tab, Esc, Up/Down).
 */
export function editLine(state: LineState, key: Key, maxLength = 64 * 1024): LineState | undefined {
  const chars = Array.from(state.text);
  const cursor = Math.min(state.cursor, chars.length);
  const char = typed(key);
  if (char !== undefined) {
    if (chars.length >= maxLength) return state;
    chars.splice(cursor, 0, char);
    return { text: chars.join(''), cursor: cursor + 1 };
  }
  switch (key.full) {
    case 'backspace':
      if (cursor === 0) return state;
      chars.splice(cursor - 1, 1);
      return { text: chars.join(''), cursor: cursor - 1 };
    case 'delete':
      chars.splice(cursor, 1);
      return { text: chars.join(''), cursor };
    case 'left':
      return { text: state.text, cursor: Math.max(0, cursor - 1) };
    case 'right':
      return { text: state.text, cursor: Math.min(chars.length, cursor + 1) };
    case 'home':
    case 'C-a':
      return { text: state.text, cursor: 0 };
    case 'end':
    case 'C-e':
      return { text: state.text, cursor: chars.length };
    case 'C-u':
      return { text: '', cursor: 0 };
    case 'C-w': {
      let start = cursor;
      while (start > 0 && chars[start - 1] === ' ') start--;
      while (start > 0 && chars[start - 1] !== ' ') start--;
      chars.splice(start, cursor - start);
      return { text: chars.join(''), cursor: start };
    }
    default:
      return undefined;
  }
}

/**
 * The box's text fitted to `width` columns (tagged for blessed): scrolled so the cursor stays in
 * view, the cursor drawn inverse when focused, and a secret drawn as one `*` per character.
 */
export function drawLine(state: LineState, width: number, options: { focused: boolean; secret?: boolean; glyphs?: Glyphs } = { focused: false }): string {
  const glyphs = options.glyphs ?? UNICODE_GLYPHS;
  const chars = Array.from(state.text).map((c) => (options.secret ? '*' : sanitize(c, glyphs)));
  const cursor = Math.min(state.cursor, chars.length);
  if (width <= 0) return '';
  // Start far enough right that the cursor (plus one cell for it) fits.
  let start = 0;
  let used = 0;
  for (let i = cursor; i >= 0; i--) {
    const w = i < chars.length ? charWidth(chars[i]!) : 1;
    if (used + w > width) break;
    used += w;
    start = i;
  }
  let out = '';
  let columns = 0;
  for (let i = start; i <= chars.length; i++) {
    const shown = i < chars.length ? chars[i]! : ' ';
    const w = i < chars.length ? charWidth(shown) : 1;
    if (columns + w > width) break;
    const text = escapeTags(shown);
    out += options.focused && i === cursor ? `{inverse}${text}{/inverse}` : text;
    columns += w;
    if (i === chars.length) break;
  }
  return out + ' '.repeat(Math.max(0, width - columns));
}
