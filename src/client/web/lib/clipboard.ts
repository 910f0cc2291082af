/** How long a copied value stays on the clipboard (the TUI's rule too). */
export const CLIPBOARD_CLEAR_MS = 30_000;

let clearTimer: number | undefined;
let holding = false;

/**
 * Copies a value and empties the clipboard 30 s later. Browsers let a page write the clipboard
 * only while it has focus, so the emptying can fail: the caller is told either way.
 */
export async function copyForAWhile(text: string, onEmptied: (sentence: string, ok: boolean) => void): Promise<void> {
  if (!navigator.clipboard?.writeText) throw new Error('This browser gives the page no clipboard; select the value and copy it yourself.');
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    throw new Error('The browser refused to let this page write the clipboard; select the value and copy it yourself.');
  }
  holding = true;
  window.clearTimeout(clearTimer);
  clearTimer = window.setTimeout(() => {
    void emptyClipboard().then((ok) =>
      onEmptied(ok ? 'The clipboard was emptied, 30 seconds after copying.' : 'The clipboard could not be emptied: the browser allows that only while this page has focus. Empty it yourself.', ok),
    );
  }, CLIPBOARD_CLEAR_MS);
}

/** Empties the clipboard now if this page put a value there (locking, logging out). */
export async function emptyClipboard(): Promise<boolean> {
  window.clearTimeout(clearTimer);
  if (!holding) return true;
  try {
    await navigator.clipboard.writeText('');
    holding = false;
    return true;
  } catch {
    return false;
  }
}
