/** Where every part of the screen goes, computed from the terminal's size on each draw. */
export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

export interface MainLayout {
  header: Rect;
  filter: Rect;
  list: Rect;
  detail: Rect;
  message: Rect;
  status: Rect;
}

/** Smaller than this, the screen only says how big it needs to be. */
export const MIN_WIDTH = 50;
export const MIN_HEIGHT = 12;

export function tooSmall(width: number, height: number): boolean {
  return width < MIN_WIDTH || height < MIN_HEIGHT;
}

/**
 * Header on the first line, message and status bar at the bottom; between them the filter box
 * above the record list on the left and the open record on the right (the list gets 45%). A long
 * message takes `messageRows` rows (the body gives them up while it shows).
 */
export function mainLayout(width: number, height: number, messageRows = 1): MainLayout {
  const bodyTop = 1;
  const bodyHeight = Math.max(0, height - 2 - messageRows);
  const listWidth = Math.max(24, Math.floor(width * 0.45));
  const filterHeight = 3;
  return {
    header: { top: 0, left: 0, width, height: 1 },
    filter: { top: bodyTop, left: 0, width: listWidth, height: filterHeight },
    list: { top: bodyTop + filterHeight, left: 0, width: listWidth, height: Math.max(0, bodyHeight - filterHeight) },
    detail: { top: bodyTop, left: listWidth, width: Math.max(0, width - listWidth), height: bodyHeight },
    message: { top: height - 1 - messageRows, left: 0, width, height: messageRows },
    status: { top: height - 1, left: 0, width, height: 1 },
  };
}

/**
 * A box of about the wanted size, centred in the body (between the header and the message and
 * status rows, `messageRows` of them for the message), never larger than it.
 */
export function overlayRect(width: number, height: number, want: { width: number; height: number }, messageRows = 1): Rect {
  const bodyHeight = Math.max(3, height - 2 - messageRows);
  const w = Math.max(10, Math.min(want.width, width - 2));
  const h = Math.max(3, Math.min(want.height, bodyHeight));
  return { top: 1 + Math.floor((bodyHeight - h) / 2), left: Math.floor((width - w) / 2), width: w, height: h };
}

/** The first row to show so that `selected` is visible in `height` rows, scrolling as little as possible from `previousTop`. */
export function scrollTop(count: number, selected: number, height: number, previousTop = 0): number {
  if (height <= 0 || count <= height) return 0;
  let top = Math.min(Math.max(0, previousTop), count - height);
  if (selected < top) top = selected;
  if (selected >= top + height) top = selected - height + 1;
  return Math.max(0, Math.min(top, count - height));
}
