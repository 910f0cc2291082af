/**
 * The picture formats Keeper takes, in one place: the server's check of the first bytes, the
 * messages that list them, the CLI's help and the TUI's attach dialog all read this list, so none
 * can promise a format another refuses. HEIC/HEIF is not here: the sharp build the server uses
 * has no HEVC decoder.
 */
export const ACCEPTED_IMAGE_FORMATS = [
  { type: 'image/jpeg', name: 'JPEG', extension: '.jpg', webSafe: true },
  { type: 'image/png', name: 'PNG', extension: '.png', webSafe: true },
  { type: 'image/webp', name: 'WebP', extension: '.webp', webSafe: true },
  { type: 'image/gif', name: 'GIF', extension: '.gif', webSafe: true },
  { type: 'image/avif', name: 'AVIF', extension: '.avif', webSafe: false },
  { type: 'image/tiff', name: 'TIFF', extension: '.tiff', webSafe: false },
] as const;

export const ACCEPTED_IMAGE_TYPES: ReadonlySet<string> = new Set(ACCEPTED_IMAGE_FORMATS.map((format) => format.type));

/** Formats every browser shows as they are: a small enough original of these can be its own compact copy. */
export const WEB_SAFE_IMAGE_TYPES: ReadonlySet<string> = new Set(ACCEPTED_IMAGE_FORMATS.filter((format) => format.webSafe).map((format) => format.type));

/** "JPEG, PNG, WebP, GIF, AVIF or TIFF", for sentences. */
export const ACCEPTED_IMAGE_NAMES = (() => {
  const names = ACCEPTED_IMAGE_FORMATS.map((format) => format.name);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
})();

/** The usual file extension of an accepted type ('' for any other). */
export function imageExtension(type: string): string {
  return ACCEPTED_IMAGE_FORMATS.find((format) => format.type === type)?.extension ?? '';
}

/** The type a file name suggests (the server decides by the bytes; this is only the declared type). */
export function imageTypeFromName(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  const extension = dot < 0 ? '' : name.slice(dot).toLowerCase();
  const aliases: Record<string, string> = { '.jpeg': '.jpg', '.tif': '.tiff' };
  return ACCEPTED_IMAGE_FORMATS.find((format) => format.extension === (aliases[extension] ?? extension))?.type;
}
