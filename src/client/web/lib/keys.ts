/** Keys typed into a box are the user's text, never shortcuts. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit', 'reset', 'file'].includes(target.type);
  return false;
}

export const SHORTCUTS: ReadonlyArray<[keys: string, what: string]> = [
  ['/', 'search (typing narrows the list at once)'],
  ['↑ ↓', 'choose a record in the list'],
  ['Enter', 'open the chosen record'],
  ['Esc', 'close what is open, or clear the search'],
  ['n', 'new record'],
  ['e', 'edit the open record'],
  ['d', 'delete the open record (asks first)'],
  ['r', 'reveal or mask the sensitive values'],
  ['h', 'history of the open record'],
  ['a', 'attach a picture to the open record'],
  ['u', 'deleted records'],
  ['s', 'sync now'],
  ['L', 'lock'],
  ['?', 'this list'],
];
