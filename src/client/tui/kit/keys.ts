/** A key press as the TUI's pure handlers see it (independent of blessed). */
export interface Key {
  /** 'enter', 'escape', 'tab', 'up', 'backspace', 'f2', a letter, ... */
  name: string;
  /** The character typed, for printable keys. */
  ch?: string | undefined;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  /** Name with modifiers, as in the help: 'C-s', 'S-tab', 'enter', 'q', 'L'. */
  full: string;
  /** Ctrl-J (a bare line feed): Enter everywhere, but a line break inside a form's value. */
  linefeed?: boolean;
}

interface BlessedKey {
  name?: string;
  full?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

/**
 * Blessed reports Enter twice (as 'return' and as 'enter') and Ctrl-J as 'linefeed'; this keeps
 * one 'enter'. Printable characters are named by the character itself ('L', '?', 'é').
 */
export function keyFromBlessed(ch: string | undefined, key: BlessedKey | undefined): Key | undefined {
  const name = key?.name ?? '';
  if (name === 'return') return undefined;
  const ctrl = Boolean(key?.ctrl);
  const meta = Boolean(key?.meta);
  if (name === 'enter') return { name: 'enter', ctrl: false, meta, shift: false, full: 'enter' };
  if (name === 'linefeed') return { name: 'enter', ctrl: false, meta, shift: false, full: 'enter', linefeed: true };
  const printable = ch !== undefined && ch.length > 0 && !ctrl && !meta && ch >= ' ' && ch !== '\u007f' && name !== 'escape' && name !== 'tab' && name !== 'backspace' && name !== 'enter';
  if (printable) return { name: ch === ' ' ? 'space' : ch, ch, ctrl, meta, shift: Boolean(key?.shift), full: ch === ' ' ? 'space' : ch };
  return { name, ch, ctrl, meta, shift: Boolean(key?.shift), full: key?.full ?? name };
}

/** A key for tests and for code that synthesises presses: 'C-s', 'S-tab', 'enter', 'a'. */
export function key(full: string): Key {
  if (full.length === 1 || (Array.from(full).length === 1 && full !== ' ')) {
    return { name: full, ch: full, ctrl: false, meta: false, shift: false, full };
  }
  if (full === 'space') return { name: 'space', ch: ' ', ctrl: false, meta: false, shift: false, full };
  if (full === 'C-j') return { name: 'enter', ctrl: false, meta: false, shift: false, full: 'enter', linefeed: true };
  const ctrl = full.startsWith('C-');
  const shift = full.startsWith('S-');
  const name = ctrl || shift ? full.slice(2) : full;
  return { name, ctrl, meta: false, shift, full };
}

/** A character to insert into a text box, or undefined for keys that are not typing. */
export function typed(key: Key): string | undefined {
  return key.ch !== undefined && !key.ctrl && !key.meta && key.ch >= ' ' && key.ch !== '\u007f' && key.name !== 'enter' ? key.ch : undefined;
}

export interface HelpSection {
  title: string;
  keys: Array<[keys: string, what: string]>;
}

/** Every key the TUI answers to, by screen; the help overlay shows exactly this. */
export const HELP: HelpSection[] = [
  {
    title: 'Records',
    keys: [
      ['Up/Down j/k', 'choose a record'],
      ['PgUp/PgDn', 'page through the list'],
      ['Home/End', 'first / last record'],
      ['/', 'filter (text, #tag, *)'],
      ['Esc', 'clear the filter'],
      ['Enter, Tab', 'open: choose a field'],
      ['n', 'new record'],
      ['e', 'edit the record'],
      ['f', 'star / unstar'],
      ['d', 'delete (asks first)'],
      ['h', 'history, restore'],
      ['u', 'deleted records'],
      ['a', 'attach an image file'],
      ['i', "the record's images"],
      ['r', 'reveal / hide secrets'],
      ['c', 'copy a field (30 s)'],
      ['s', 'sync now'],
      ['m', 'messages'],
      ['L', 'lock now'],
      ['E', 'encryption, its word'],
      ['I / X', 'import / export a file'],
      ['?', 'this help'],
      ['q, C-c', 'save and quit'],
    ],
  },
  {
    title: 'Filter box',
    keys: [
      ['typing', 'narrows the list'],
      ['Enter, Tab', 'to the list, kept'],
      ['Esc', 'clear it, to the list'],
      ['C-u', 'clear the filter'],
      ['C-t', 'also match secrets'],
    ],
  },
  {
    title: 'Open record',
    keys: [
      ['Up/Down', 'choose a field'],
      ['c, Enter', 'copy the field'],
      ['r', 'reveal / hide secrets'],
      ['e, d, h', 'edit, delete, history'],
      ['Esc, Tab', 'back to the list'],
    ],
  },
  {
    title: 'Images (i)',
    keys: [
      ['Up/Down', 'choose an image'],
      ['Enter', 'what to do with it'],
      ['o', 'save the original'],
      ['c, p', 'save cover, compact copy'],
      ['v', 'open the saved file'],
      ['x, d', 'remove (asks first)'],
      ['Esc, Tab', 'back to the list'],
    ],
  },
  {
    title: 'Attach an image (a)',
    keys: [
      ['Tab', 'path / name (optional)'],
      ['Enter', 'attach'],
      ['Esc', 'cancel'],
    ],
  },
  {
    title: 'Record form',
    keys: [
      ['Tab, Enter', 'next box'],
      ['S-Tab', 'previous box'],
      ['Up/Down', 'row above / below'],
      ['Left/Right', 'change kind (on Kind)'],
      ['F2', 'rename the field'],
      ['C-n', 'add a field'],
      ['C-d', 'remove the field'],
      ['C-t', 'sensitive on / off'],
      ['C-o', 'one-time code on / off'],
      ['C-g', 'generate a password'],
      ['C-j', 'line break in a value'],
      ['C-f', 'star / unstar'],
      ['C-r', 'reveal / hide secrets'],
      ['C-s', 'save'],
      ['Esc', 'cancel'],
    ],
  },
  {
    title: 'History, deleted records',
    keys: [
      ['Up/Down', 'choose'],
      ['Enter', 'restore (asks first)'],
      ['r', 'reveal / hide secrets'],
      ['Esc', 'close'],
    ],
  },
  {
    title: 'Log in, unlock',
    keys: [
      ['Tab, Up/Down', 'move between boxes'],
      ['Enter', 'next box, or go'],
      ['C-r', 'log in / register'],
      ['Esc', 'quit'],
    ],
  },
];
