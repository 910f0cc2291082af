/**
 * The images of a record: the prompt that attaches a file by path, and the menu of what can be
 * done with one image (save a rendition, open the saved file, remove it), as pure state machines
 * with the lines to draw. The transfers themselves are the client core's (src/client/images).
 */
import { homedir } from 'node:os';
import type { ImageRendition } from '../../../domain/images.js';
import type { Key } from '../kit/keys.js';
import { drawLine, editLine, line, type LineState } from '../kit/line-editor.js';
import { escapeTags, fit, sanitize, UNICODE_GLYPHS, wrap, type Glyphs } from '../kit/text.js';
import { RENDITION_NAMES, type ImageRow } from '../kit/view-model.js';
import { formatBytes } from '../../../domain/byte-sizes.js';
import { ACCEPTED_IMAGE_NAMES } from '../../../domain/image-types.js';

// ---- attach a file --------------------------------------------------------------------------

export interface AttachState {
  recordId: string;
  recordName: string;
  path: LineState;
  /** Optional: the name the image goes by; the file's own name when empty. */
  name: LineState;
  /** 0 the path, 1 the name. */
  row: 0 | 1;
}

export function attachForm(recordId: string, recordName: string, path = ''): AttachState {
  return { recordId, recordName, path: line(path), name: line(), row: 0 };
}

export type AttachAction = 'submit' | 'cancel';

/** Enter (or C-s) attaches from either box; Tab and Up/Down move between them; Esc cancels. */
export function attachKey(state: AttachState, key: Key): { state: AttachState; action?: AttachAction } {
  switch (key.full) {
    case 'escape':
      return { state, action: 'cancel' };
    case 'enter':
    case 'C-s':
      return { state, action: 'submit' };
    case 'tab':
    case 'S-tab':
    case 'up':
    case 'down':
      return { state: { ...state, row: state.row === 0 ? 1 : 0 } };
  }
  const box = state.row === 0 ? 'path' : 'name';
  const edited = editLine(state[box], key, 4096);
  return { state: edited ? { ...state, [box]: edited } : state };
}

export type AttachOutcome = { ok: true; path: string; fileName?: string | undefined } | { ok: false; error: string; row: 0 | 1 };

/** The path to upload (a leading ~ is the home directory) and the name, if one was typed. */
export function attachOutcome(state: AttachState, home: string = homedir()): AttachOutcome {
  let path = state.path.text.trim();
  if (path === '') return { ok: false, error: 'type the path of the image file to attach', row: 0 };
  if (path === '~' || path.startsWith('~/')) path = home + path.slice(1);
  const name = state.name.text.trim();
  if (name === '') return { ok: true, path };
  if (/[/\\\u0000-\u001f\u007f]/.test(name)) return { ok: false, error: 'the name is a plain file name: no slashes or control characters', row: 1 };
  return { ok: true, path, fileName: name };
}

export function attachTitle(state: AttachState): string {
  return `Attach an image to "${state.recordName}"`;
}

/** The prompt's lines for a box `width` columns wide; `progress` or `error` say how the last try went. */
export function attachLines(state: AttachState, width: number, status: { busy: boolean; progress?: string | undefined; error?: string | undefined }, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const label = 7;
  const boxWidth = Math.max(8, width - label - 2);
  const mark = (row: number) => (state.row === row ? '>' : ' ');
  const box = (value: LineState, row: number) => `{underline}${drawLine(value, boxWidth, { focused: !status.busy && state.row === row, glyphs })}{/underline}`;
  const lines = [
    '',
    ...wrap(`A ${ACCEPTED_IMAGE_NAMES} file on this machine (~ is your home directory).`, width - 2).map((l) => ` ${escapeTags(l)}`),
    '',
    `${mark(0)}${fit('Path', label - 1)} ${box(state.path, 0)}`,
    `${mark(1)}${fit('Name', label - 1)} ${box(state.name, 1)}`,
    `${' '.repeat(label + 1)}{gray-fg}${escapeTags(fit('optional: the file\'s own name when empty', boxWidth, glyphs))}{/gray-fg}`,
    '',
  ];
  if (status.busy) lines.push(` ${escapeTags(fit(sanitize(status.progress ?? 'uploading...', glyphs), width - 2, glyphs))}`);
  else if (status.error) lines.push(...wrap(sanitize(status.error, glyphs), width - 2).map((l) => ` {red-fg}${escapeTags(l)}{/red-fg}`));
  else lines.push('');
  lines.push('');
  lines.push(status.busy ? ' Esc: close (the upload goes on)' : ' Enter: attach   Tab: other box   Esc: cancel');
  return lines;
}

// ---- one image: save, open, remove -----------------------------------------------------------

export type ImageAction = ImageRendition | 'open' | 'remove';

/** The menu's entries in order, with the key that runs each at once. */
export const IMAGE_ACTIONS: ReadonlyArray<{ key: string; action: ImageAction }> = [
  { key: 'o', action: 'original' },
  { key: 'c', action: 'cover' },
  { key: 'p', action: 'compact' },
  { key: 'v', action: 'open' },
  { key: 'x', action: 'remove' },
];

export interface ImageMenuState {
  imageId: string;
  selected: number;
}

export function imageMenuKey(state: ImageMenuState, key: Key): { state: ImageMenuState; action?: ImageAction | 'close' } {
  switch (key.full) {
    case 'escape':
    case 'q':
    case 'left':
      return { state, action: 'close' };
    case 'enter':
      return { state, action: IMAGE_ACTIONS[state.selected]!.action };
    case 'up':
    case 'k':
      return { state: { ...state, selected: Math.max(0, state.selected - 1) } };
    case 'down':
    case 'j':
      return { state: { ...state, selected: Math.min(IMAGE_ACTIONS.length - 1, state.selected + 1) } };
    case 'd':
      return { state, action: 'remove' };
  }
  const entry = IMAGE_ACTIONS.find((a) => a.key === key.full);
  return entry ? { state, action: entry.action } : { state };
}

/** Why a rendition cannot be saved now, or undefined when it can. */
export function unavailable(row: ImageRow, rendition: ImageRendition): string | undefined {
  if (row.renditions.includes(rendition)) return undefined;
  const what = RENDITION_NAMES[rendition];
  if (row.sealed && rendition === 'compact') return 'a sealed image has no compact copy (the server never sees the picture)';
  if (row.status === 'processing') return `the ${what} is still being made: try again in a moment`;
  if (row.status === 'failed') return `there is no ${what}: making it failed (${row.failure ?? 'no reason given'})`;
  return `this image has no ${what}`;
}

/** The saved file "open" shows: the original if saved here, else the compact copy, else the cover. */
export function openablePath(row: ImageRow): { rendition: ImageRendition; path: string } | undefined {
  for (const rendition of ['original', 'compact', 'cover'] as const) {
    const path = row.saved[rendition];
    if (path !== undefined) return { rendition, path };
  }
  return undefined;
}

export function imageMenuLines(row: ImageRow, state: ImageMenuState, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const labels: Record<ImageAction, string> = {
    original: `save the original (${formatBytes(row.size)})`,
    cover: 'save the cover (120x120)',
    compact: 'save the compact copy',
    open: 'open the saved file',
    remove: 'remove the image (asks first)',
  };
  const note = (action: ImageAction): string => {
    if (action === 'open') return openablePath(row) ? '' : 'nothing saved yet';
    if (action === 'remove') return '';
    if (unavailable(row, action)) return row.status === 'processing' ? 'being made' : 'none';
    return row.saved[action] !== undefined ? 'saved' : '';
  };
  const labelWidth = Math.max(10, width - 4 - 19);
  const lines = [''];
  IMAGE_ACTIONS.forEach(({ key, action }, index) => {
    const text = ` ${key}  ${fit(labels[action], labelWidth, glyphs)} ${fit(note(action), 17, glyphs)}`;
    const fitted = escapeTags(fit(text, width, glyphs));
    const dim = note(action) === 'none' || note(action) === 'being made' || note(action) === 'nothing saved yet';
    lines.push(index === state.selected ? `{inverse}${fitted}{/inverse}` : dim ? `{gray-fg}${fitted}{/gray-fg}` : fitted);
  });
  lines.push('');
  return lines;
}

export const IMAGE_MENU_HINT = 'letter or Enter: do it  Esc close';
