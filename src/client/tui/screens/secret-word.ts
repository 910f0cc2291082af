/**
 * The dialog that turns encryption on (a new secret word, typed twice) or changes the secret word
 * (the current one, then the new one twice), as a pure state machine with the lines to draw. The
 * strength rule is the client core's (secret-word-policy.ts); it runs when the dialog is sent.
 */
import { SECRET_WORD_MIN_LENGTH } from '../../secret-word-policy.js';
import type { Key } from '../kit/keys.js';
import { drawLine, editLine, line, type LineState } from '../kit/line-editor.js';
import { escapeTags, fit, sanitize, UNICODE_GLYPHS, wrap, type Glyphs } from '../kit/text.js';

export interface SecretWordState {
  /** Turn encryption on, or change the word of an encrypted vault. */
  mode: 'encrypt' | 'change';
  current: LineState;
  next: LineState;
  again: LineState;
  /** Index into the boxes of the mode (see `boxes`). */
  row: number;
  /** Why the last attempt was refused. */
  error?: string | undefined;
}

type Box = 'current' | 'next' | 'again';

function boxes(state: SecretWordState): Box[] {
  return state.mode === 'change' ? ['current', 'next', 'again'] : ['next', 'again'];
}

export function secretWordForm(mode: 'encrypt' | 'change'): SecretWordState {
  return { mode, current: line(), next: line(), again: line(), row: 0 };
}

export type SecretWordAction = 'submit' | 'cancel';

/** Tab, Up/Down move; Enter goes to the next box and sends from the last; Esc cancels. */
export function secretWordKey(state: SecretWordState, key: Key): { state: SecretWordState; action?: SecretWordAction } {
  const count = boxes(state).length;
  switch (key.full) {
    case 'escape':
      return { state, action: 'cancel' };
    case 'tab':
    case 'down':
      return { state: { ...state, row: (state.row + 1) % count } };
    case 'S-tab':
    case 'up':
      return { state: { ...state, row: (state.row + count - 1) % count } };
    case 'enter':
    case 'C-s':
      return state.row === count - 1 || key.full === 'C-s' ? { state, action: 'submit' } : { state: { ...state, row: state.row + 1 } };
  }
  const box = boxes(state)[state.row]!;
  const edited = editLine(state[box], key, 1024);
  return { state: edited ? { ...state, [box]: edited } : state };
}

export type SecretWordOutcome = { ok: true; mode: 'encrypt' | 'change'; current: string; next: string } | { ok: false; error: string; state: SecretWordState };

/** What the dialog asks for, or what is missing (the strength rule is checked by the caller). */
export function secretWordOutcome(state: SecretWordState): SecretWordOutcome {
  const at = (box: Box) => boxes(state).indexOf(box);
  if (state.mode === 'change' && state.current.text === '') return { ok: false, error: 'type the current secret word', state: { ...state, row: at('current') } };
  if (state.next.text === '') return { ok: false, error: 'type the new secret word', state: { ...state, row: at('next') } };
  if (state.again.text !== state.next.text) {
    return { ok: false, error: 'the two new secret words differ; type them again', state: { ...state, next: line(), again: line(), row: at('next') } };
  }
  return { ok: true, mode: state.mode, current: state.current.text, next: state.next.text };
}

/** The state after the new word was refused: both new boxes emptied, the reason shown. */
export function refused(state: SecretWordState, error: string, keepNew = false): SecretWordState {
  const emptied = keepNew ? state : { ...state, next: line(), again: line() };
  return { ...emptied, error, row: keepNew ? 0 : boxes(state).indexOf('next') };
}

export function secretWordTitle(state: SecretWordState): string {
  return state.mode === 'encrypt' ? 'Turn encryption on' : 'Change the secret word';
}

export function secretWordLines(state: SecretWordState, width: number, options: { busy: boolean }, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const label = 20;
  const labels: Record<Box, string> = { current: 'Current word', next: 'New secret word', again: 'New word again' };
  const intro =
    state.mode === 'encrypt'
      ? 'Sensitive values will be sealed on this machine with a key only this secret word opens. Forget it and they are lost.'
      : 'The vault key is wrapped again under the new word; no record changes.';
  const rule = `At least ${SECRET_WORD_MIN_LENGTH} characters and hard to guess: a few unrelated words work well.`;
  const lines = ['', ...wrap(`${intro} ${rule}`, width - 2).map((l) => ` ${escapeTags(l)}`), ''];
  boxes(state).forEach((box, row) => {
    const focused = state.row === row && !options.busy;
    lines.push(`${focused ? '>' : ' '}${fit(labels[box], label - 1)}{underline}${drawLine(state[box], Math.max(8, width - label - 1), { focused, secret: true, glyphs })}{/underline}`);
  });
  lines.push('');
  if (options.busy) lines.push(state.mode === 'encrypt' ? ' Turning encryption on...' : ' Changing the secret word...');
  else if (state.error) lines.push(...wrap(sanitize(state.error, glyphs), width - 2).map((l) => ` {red-fg}${escapeTags(l)}{/red-fg}`));
  lines.push('', ' Enter: next, and go on the last box   Esc: cancel');
  return lines;
}
