/**
 * Control characters (C0, DEL, C1) carry no meaning in a name, a login or a client id, and
 * PostgreSQL text cannot hold NUL at all. Values may be multi-line notes, so they keep tab and line
 * breaks. These rules apply to what clients send (commands, credentials), not to stored events, so
 * that older logs always replay.
 */
const CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LINE_BREAKS = /(?![\t\n\r])\p{Cc}/u;

export const NO_CONTROL_CHARACTERS = 'must not contain control characters (such as NUL, tab or a line break)';
export const ONLY_LINE_CONTROL_CHARACTERS = 'must not contain control characters other than tab and line breaks (such as NUL)';

export function hasNoControlCharacters(text: string): boolean {
  return !CONTROL.test(text);
}

export function hasOnlyLineControlCharacters(text: string): boolean {
  return !CONTROL_BUT_LINE_BREAKS.test(text);
}
