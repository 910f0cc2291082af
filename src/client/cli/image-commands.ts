import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IMAGE_RENDITIONS, type ImageRendition } from '../../domain/images.js';
import { CliError, EXIT } from './exit-codes.js';
import { displayFileName, savedFileName, type Progress } from '../images/image-transfer.js';
import { openVault, syncIfOnline, type Context } from './commands.js';
import { formatBytes } from '../../domain/byte-sizes.js';
import { formatTime, table } from './format.js';
import { escapeControls, jsonText } from '../terminal-text.js';

/** Files above this size show progress while they travel (on a terminal). */
const PROGRESS_FROM_BYTES = 1024 * 1024;

export async function imageAddCommand(ctx: Context, recordRef: string, file: string, options: { name?: string }): Promise<void> {
  const handle = await openVault(ctx);
  const engine = handle.vault;
  // Out of reach, the upload waits on this machine for the next sync (the record may be one made offline too).
  const online = (await syncIfOnline(ctx, handle)) !== undefined;
  const record = handle.findRecord(recordRef);
  const size = (await stat(file).catch(() => null))?.size;
  if (size === undefined) throw new CliError(`cannot read ${file}: no such file`, EXIT.notFound);
  const outcome = await transferring(() => handle.attachOrQueueImage({ recordId: record.id, path: file, fileName: options.name, onProgress: progressBar(size, 'uploading'), offline: !online }));
  if (outcome.queued) {
    const name = escapeControls(options.name ?? basename(file));
    ctx.out(`the server cannot be reached: image ${outcome.image.imageId} (${name}) for "${escapeControls(record.name)}" is kept on this machine${engine.encrypted ? ', sealed,' : ''} and will be sent at the next sync (keeper sync, or any command that reaches the server)`);
    return;
  }
  const response = outcome.response;
  await handle.syncOnline();
  const image = response.image;
  const state = image ? engine.image(image.id) : undefined;
  const what = state ? `${escapeControls(displayFileName(state, engine.unlockedKey))}, ${formatBytes(state.original.size)}` : file;
  const next = engine.encrypted ? 'sealed on this machine, cover made here' : 'the cover and compact copy are being made';
  ctx.out(`${response.duplicate ? 'already attached' : 'attached'} image ${image?.id ?? '?'} (${what}) to "${escapeControls(record.name)}"; ${next}`);
}

export async function imageListCommand(ctx: Context, recordRef: string | undefined, options: { json?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const engine = handle.vault;
  await syncIfOnline(ctx, handle);
  const images = recordRef === undefined ? engine.allImages() : engine.imagesOf(handle.findRecord(recordRef).id);
  if (options.json) {
    ctx.out(jsonText(images.map((image) => ({ ...image, fileName: displayFileName(image, engine.unlockedKey), files: engine.imageFilesOf(image.id) })), 2));
    return;
  }
  if (images.length === 0) {
    ctx.out(recordRef === undefined ? 'no images' : 'this record has no images');
    return;
  }
  const rows = images.map((image) => [
    image.id.slice(0, 8),
    displayFileName(image, engine.unlockedKey),
    formatBytes(image.original.size),
    image.original.width ? `${image.original.width}x${image.original.height}` : '-',
    image.status === 'failed' ? `failed: ${image.failure ?? ''}` : image.status,
    formatTime(image.createdAt),
    Object.keys(engine.imageFilesOf(image.id)).join(',') || '-',
  ]);
  ctx.out(table(['id', 'file', 'size', 'pixels', 'status', 'added', 'saved'], rows));
}

export async function imageGetCommand(ctx: Context, imageRef: string, options: { rendition?: string; out?: string }): Promise<void> {
  const rendition = parseRendition(options.rendition ?? 'original');
  const handle = await openVault(ctx);
  await handle.syncOnline();
  const image = handle.findImage(imageRef);
  const target = options.out ? await targetPath(options.out, savedFileName(image, rendition, handle.vault.unlockedKey)) : undefined;
  const size = rendition === 'original' ? image.original.size : ((rendition === 'cover' ? image.cover : image.compact)?.size ?? 0);
  const path = await transferring(() => handle.saveImage({ image, rendition, target, onProgress: progressBar(size, 'downloading') }));
  ctx.out(path);
}

export async function imageRemoveCommand(ctx: Context, imageRef: string): Promise<void> {
  const handle = await openVault(ctx);
  await handle.syncOnline();
  const image = handle.findImage(imageRef);
  await handle.removeImage(image.id);
  await handle.syncOnline();
  ctx.out(`removed image ${image.id} (${escapeControls(displayFileName(image, handle.vault.unlockedKey))})`);
}

function parseRendition(value: string): ImageRendition {
  if ((IMAGE_RENDITIONS as readonly string[]).includes(value)) return value as ImageRendition;
  throw new CliError(`--rendition ${value}: must be one of ${IMAGE_RENDITIONS.join(', ')}`, EXIT.usage);
}

/** `--out` may name a file or a directory (existing, or ending in a slash). */
async function targetPath(out: string, name: string): Promise<string> {
  const info = await stat(out).catch(() => null);
  return info?.isDirectory() || out.endsWith('/') ? join(out, name) : out;
}

async function transferring<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  }
}

/** A one-line progress bar on a terminal for a large file; nothing when piped. */
function progressBar(total: number, verb: string): Progress | undefined {
  if (!process.stderr.isTTY || total < PROGRESS_FROM_BYTES) return undefined;
  const started = Date.now();
  return (done) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const share = Math.min(done / total, 1);
    const filled = Math.round(share * 30);
    process.stderr.write(
      `\r${verb} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${Math.round(share * 100)}% ${formatBytes(done)} of ${formatBytes(total)}, ${formatBytes(done / seconds)}/s`,
    );
  };
}
