const ACTIVITY = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart', 'input'] as const;

/** Calls `onIdle` once after `ms` without a key, a click, a touch or a move of the pointer on the page. */
export function watchIdle(ms: number, onIdle: () => void): () => void {
  let last = Date.now();
  let timer: number | undefined;
  const check = () => {
    const left = last + ms - Date.now();
    if (left <= 0) {
      stop();
      onIdle();
    } else timer = window.setTimeout(check, Math.min(left, 60_000));
  };
  const active = () => {
    last = Date.now();
  };
  const stop = () => {
    window.clearTimeout(timer);
    for (const type of ACTIVITY) window.removeEventListener(type, active, true);
  };
  for (const type of ACTIVITY) window.addEventListener(type, active, { capture: true, passive: true });
  timer = window.setTimeout(check, Math.min(ms, 60_000));
  return stop;
}
