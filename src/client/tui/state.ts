import type { ListModel } from './kit/view-model.js';
import { line, type LineState } from './kit/line-editor.js';
import type { DeletedState, HistoryState } from './screens/history.js';
import type { AttachState, ImageMenuState } from './screens/images.js';
import type { LoginState, SecretPromptState } from './screens/login.js';
import type { FormState } from './screens/record-form.js';
import type { SecretWordState } from './screens/secret-word.js';
import type { TransferState } from './screens/transfer.js';

/** What the app is showing and where the user is in it; the painter draws exactly this. */

/** The screen that owns the keys: the vault's screens sit under `main`, the others hide the vault. */
export type Mode =
  | { kind: 'starting'; text: string }
  | { kind: 'login'; form: LoginState; busy: boolean }
  | { kind: 'secret'; purpose: 'open' | 'unlock'; prompt: SecretPromptState; answer?: (secret: string) => void; cancel?: () => void }
  | { kind: 'paused'; reason: string }
  | { kind: 'main' };

/** Boxes over the main screen; the last one takes the keys. `top` is the first line shown. */
export type Overlay =
  | { kind: 'help'; top: number }
  | { kind: 'confirm'; title: string; text: string; yes: () => Promise<void> }
  | { kind: 'form'; form: FormState; top: number; busy: boolean }
  | { kind: 'history'; title: string; state: HistoryState }
  | { kind: 'deleted'; state: DeletedState }
  | { kind: 'messages'; top: number }
  | { kind: 'attach'; state: AttachState; busy: boolean; progress?: string | undefined; error?: string | undefined }
  | { kind: 'image'; state: ImageMenuState }
  | { kind: 'secret-word'; state: SecretWordState; busy: boolean }
  | { kind: 'transfer'; state: TransferState; busy: boolean; progress?: string | undefined; error?: string | undefined };

export type Level = 'info' | 'warn' | 'error';

export interface Message {
  at: number;
  text: string;
  level: Level;
}

export interface MainState {
  filter: LineState;
  /** The filter also matches inside sensitive values (C-t in the filter box); off by default, for whoever looks over a shoulder. */
  filterSensitive: boolean;
  focus: 'list' | 'filter' | 'fields' | 'images';
  selectedId: string | undefined;
  selectedIndex: number;
  fieldIndex: number;
  /** The chosen image of the open record (while the focus is on its images). */
  imageIndex: number;
  /** The record whose sensitive values are shown (one at a time, until the selection moves). */
  revealedId: string | undefined;
  /** The open record's name, to name it once it is gone. */
  shownName: string | undefined;
  /** Scroll positions, kept by the painter. */
  listTop: number;
  detailTop: number;
}

export function mainState(): MainState {
  return { filter: line(), filterSensitive: false, focus: 'list', selectedId: undefined, selectedIndex: 0, fieldIndex: 0, imageIndex: 0, revealedId: undefined, shownName: undefined, listTop: 0, detailTop: 0 };
}

/** The list as last searched, with the filter and data version it was searched for. */
export interface CachedList {
  key: string;
  model: ListModel;
}

/**
 * The state the app's parts share and change: the screen that owns the keys, the boxes over it
 * and the vault screen. `overlays` is replaced as often as pushed to, so hold the Screen, not the array.
 */
export interface Screen {
  mode: Mode;
  overlays: Overlay[];
  readonly main: MainState;
}

export function screenState(): Screen {
  return { mode: { kind: 'starting', text: 'Starting...' }, overlays: [], main: mainState() };
}

/** Locked: the unlock prompt of an encrypted vault, or the paused screen of one without encryption. */
export function isLocked(mode: Mode): boolean {
  return (mode.kind === 'secret' && mode.purpose === 'unlock') || mode.kind === 'paused';
}

/** A scroll position past any text: drawing clamps it to the last page. */
export const SCROLL_END = 1_000_000;
