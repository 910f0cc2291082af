/**
 * The connect screen (server address, login, password; a second password box when registering)
 * and the secret-word prompt, as pure state machines with the lines to draw.
 */
import { serverTarget } from '../../../config/env.js';
import type { Key } from '../kit/keys.js';
import { drawLine, editLine, line, type LineState } from '../kit/line-editor.js';
import { escapeTags, fit, sanitize, UNICODE_GLYPHS, wrap, type Glyphs } from '../kit/text.js';

export interface LoginState {
  mode: 'login' | 'register';
  server: LineState;
  login: LineState;
  password: LineState;
  repeat: LineState;
  /** 0 server, 1 login, 2 password, 3 password again (register only). */
  row: number;
}

export function loginForm(server: string, login = ''): LoginState {
  return { mode: 'login', server: line(server), login: line(login), password: line(), repeat: line(), row: login ? 2 : 1 };
}

const BOXES = ['server', 'login', 'password', 'repeat'] as const;

function rows(state: LoginState): number {
  return state.mode === 'register' ? 4 : 3;
}

export type LoginAction = 'submit' | 'quit';

export function loginKey(state: LoginState, key: Key): { state: LoginState; action?: LoginAction } {
  switch (key.full) {
    case 'escape':
    case 'C-c':
      return { state, action: 'quit' };
    case 'C-r': {
      const mode = state.mode === 'login' ? 'register' : 'login';
      return { state: { ...state, mode, repeat: line(), row: Math.min(state.row, mode === 'login' ? 2 : 3) } };
    }
    case 'tab':
    case 'down':
      return { state: { ...state, row: (state.row + 1) % rows(state) } };
    case 'S-tab':
    case 'up':
      return { state: { ...state, row: (state.row + rows(state) - 1) % rows(state) } };
    case 'enter':
      return state.row === rows(state) - 1 ? { state, action: 'submit' } : { state: { ...state, row: state.row + 1 } };
  }
  const box = BOXES[state.row]!;
  const edited = editLine(state[box], key, 1024);
  return { state: edited ? { ...state, [box]: edited } : state };
}

export type LoginOutcome = { ok: true; server: string; login: string; password: string; register: boolean } | { ok: false; error: string; row: number };

export function loginOutcome(state: LoginState): LoginOutcome {
  const parsed = serverTarget.safeParse(state.server.text.trim());
  if (!parsed.success) return { ok: false, error: 'the server address must be host:port (several separated by commas) or dns:///name:port, e.g. 127.0.0.1:7070', row: 0 };
  const server = parsed.data;
  const login = state.login.text.trim();
  if (login === '') return { ok: false, error: 'type your login', row: 1 };
  if (state.password.text === '') return { ok: false, error: 'type your password', row: 2 };
  if (state.mode === 'register' && state.repeat.text !== state.password.text) return { ok: false, error: 'the two passwords differ; type them again', row: 3 };
  return { ok: true, server, login, password: state.password.text, register: state.mode === 'register' };
}

export function loginTitle(state: LoginState): string {
  return state.mode === 'login' ? 'Log in to Keeper' : 'Register with Keeper';
}

export function loginLines(state: LoginState, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const label = 16;
  const boxWidth = Math.max(8, width - label - 1);
  const labels = ['Server', 'Login', 'Password', 'Password again'];
  const lines: string[] = [''];
  for (let row = 0; row < rows(state); row++) {
    const box = BOXES[row]!;
    const secret = box === 'password' || box === 'repeat';
    const mark = state.row === row ? '>' : ' ';
    lines.push(`${mark}${fit(labels[row]!, label - 1)}{underline}${drawLine(state[box], boxWidth, { focused: state.row === row, secret, glyphs })}{/underline}`);
    lines.push('');
  }
  const other = state.mode === 'login' ? 'register a new account' : 'log in instead';
  lines.push(` Enter: next, and ${state.mode === 'login' ? 'log in' : 'register'} on the last box`);
  lines.push(` C-r: ${other}   Esc: quit`);
  return lines;
}

// ---- the secret word -----------------------------------------------------------------------

export interface SecretPromptState {
  secret: LineState;
  /** Why the prompt is shown ("this vault is encrypted", "locked after 15 minutes idle"). */
  reason: string;
  /** The last attempt's problem ("the secret word is wrong"). */
  error?: string | undefined;
  busy: boolean;
}

export function secretPrompt(reason: string, error?: string): SecretPromptState {
  return { secret: line(), reason, error, busy: false };
}

export function secretKey(state: SecretPromptState, key: Key): { state: SecretPromptState; action?: 'submit' | 'quit' } {
  if (state.busy) return { state };
  if (key.full === 'escape' || key.full === 'C-c') return { state, action: 'quit' };
  if (key.full === 'enter') return state.secret.text === '' ? { state: { ...state, error: 'type the secret word' } } : { state, action: 'submit' };
  const edited = editLine(state.secret, key, 1024);
  return { state: edited ? { ...state, secret: edited } : state };
}

export function secretLines(state: SecretPromptState, width: number, glyphs: Glyphs = UNICODE_GLYPHS): string[] {
  const label = 13;
  return [
    '',
    ...wrap(sanitize(state.reason, glyphs), width - 2).map((l) => ` ${escapeTags(l)}`),
    '',
    ` ${fit('Secret word', label - 1)}{underline}${drawLine(state.secret, Math.max(8, width - label - 2), { focused: !state.busy, secret: true, glyphs })}{/underline}`,
    '',
    state.busy ? ' Unlocking...' : state.error ? ` {red-fg}${escapeTags(fit(sanitize(state.error, glyphs), width - 2, glyphs))}{/red-fg}` : '',
    '',
    ' Enter: unlock   Esc: quit',
  ];
}
