import { useEffect, useRef } from 'preact/hooks';

/**
 * Focus for a box on a screen that replaced another: the autofocus attribute only counts once per
 * page load (dialogs excepted), so it is set by hand when the screen appears.
 */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}
