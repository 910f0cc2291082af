/**
 * Terminal text helpers: widths in columns, clipping and padding, and making user text safe to
 * draw. Record names and values come from other devices and may hold anything (escape sequences,
 * blessed tags, wide characters), so every user string passes through here before it is drawn.
 */

import stringWidth from 'string-width';
import { escapeControls } from '../../terminal-text.js';

/** Glyphs drawn by the UI itself; plain ASCII where the terminal is not UTF-8. */
export interface Glyphs {
  ellipsis: string;
  separator: string;
  online: string;
  offline: string;
  newline: string;
  conflict: string;
  up: string;
  down: string;
}

export const UNICODE_GLYPHS: Glyphs = { ellipsis: '…', separator: '·', online: '●', offline: '○', newline: '↵', conflict: '!', up: '↑', down: '↓' };
export const ASCII_GLYPHS: Glyphs = { ellipsis: '~', separator: '|', online: '*', offline: 'o', newline: '/', conflict: '!', up: '^', down: 'v' };

const widths = new Map<number, number>();

/**
 * Columns a code point takes in a terminal: 0 (combining marks, zero-width and format
 * characters), 1, or 2 (East Asian wide, emoji), by string-width's tables. Terminals place text
 * code point by code point (wcwidth), so that is how it is measured here; the sequences whose
 * width they disagree on are taken apart by `sanitize` before anything is drawn.
 */
export function charWidth(char: string): number {
  const cp = char.codePointAt(0) ?? 0;
  if (cp >= 0x20 && cp < 0x7f) return 1;
  let width = widths.get(cp);
  if (width === undefined) {
    width = stringWidth(String.fromCodePoint(cp));
    widths.set(cp, width);
  }
  return width;
}

export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/**
 * What joins code points into one glyph of a width terminals disagree on: the zero-width joiner
 * (emoji sequences), the text and emoji presentation selectors, and the skin tone modifiers. A
 * terminal that joins them draws fewer columns than one that does not; without them every
 * terminal draws the parts, as wide as they are measured here.
 */
const JOINERS = /[\u200d\ufe0e\ufe0f]|\u{1f3fb}|\u{1f3fc}|\u{1f3fd}|\u{1f3fe}|\u{1f3ff}/gu;

/**
 * One line of user text made safe to draw: control characters (escape sequences, tabs, bells)
 * become visible stand-ins so they cannot move the cursor or change the terminal's state, and
 * joined emoji are drawn as their parts.
 */
export function sanitize(text: string, glyphs: Glyphs = UNICODE_GLYPHS): string {
  return escapeControls(text, glyphs.newline).replace(JOINERS, '');
}

/** Cuts `text` to at most `width` columns, marking the cut with an ellipsis. */
export function clip(text: string, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string {
  if (width <= 0) return '';
  if (textWidth(text) <= width) return text;
  const room = width - textWidth(glyphs.ellipsis);
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > room) break;
    out += char;
    used += w;
  }
  return out + glyphs.ellipsis;
}

export function padEnd(text: string, width: number): string {
  const missing = width - textWidth(text);
  return missing > 0 ? text + ' '.repeat(missing) : text;
}

export function padStart(text: string, width: number): string {
  const missing = width - textWidth(text);
  return missing > 0 ? ' '.repeat(missing) + text : text;
}

/** Exactly `width` columns: clipped, then padded. */
export function fit(text: string, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string {
  return padEnd(clip(text, width, glyphs), width);
}

/** Breaks text into lines of at most `width` columns: at line breaks, then between words, then anywhere. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r\n|[\n\r]/)) {
    let line = '';
    for (const word of paragraph.replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').replace(JOINERS, '').split(/(?<= )/)) {
      if (textWidth(line + word.trimEnd()) <= width) {
        line += word;
        continue;
      }
      if (line !== '') lines.push(line.trimEnd());
      line = word;
      // A word wider than the line is cut wherever the width runs out.
      while (textWidth(line.trimEnd()) > width) {
        const [head, tail] = splitAtWidth(line, width);
        lines.push(head);
        line = tail;
      }
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

/** Cuts text into pieces of at most `width` columns wherever the width runs out, keeping every character (for paths). */
export function hardWrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (textWidth(rest) > width) {
    const [head, tail] = splitAtWidth(rest, Math.max(1, width));
    lines.push(head);
    rest = tail;
  }
  lines.push(rest);
  return lines;
}

function splitAtWidth(text: string, width: number): [string, string] {
  let used = 0;
  let index = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > width && index > 0) break;
    used += w;
    index += char.length;
  }
  return [text.slice(0, index), text.slice(index)];
}

/** Blessed reads `{...}` as style tags; user text must show its braces as braces. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (brace) => (brace === '{' ? '{open}' : '{close}'));
}

/** Tagged text as it will appear (tags removed), for tests and width checks. */
export function stripTags(tagged: string): string {
  return tagged.replace(/\{(\/?[a-z-]+(?:-fg|-bg)?|\/)\}/g, (tag) => (tag === '{open}' ? '{' : tag === '{close}' ? '}' : ''));
}
