import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_RENDITIONS, type ImageRendition, type ImageState } from '../../domain/images.js';
import { CliError, EXIT } from '../../cli/exit-codes.js';
import { displayFileName, downloadImage, savedFileName, uploadImage, type Progress } from '../images/image-transfer.js';
import type { SyncEngine } from '../sync/sync-engine.js';
import { openEngine, resolveRecord, syncIfOnline, type Context } from './commands.js';
import { formatBytes } from '../../domain/byte-sizes.js';
import { formatTime, table } from './format.js';
import { escapeControls, jsonText } from '../terminal-text.js';

/** Files above this size show progress while they travel (on a terminal). */
const PROGRESS_FROM_BYTES = 1024 * 1024;

export async function imageAddCommand(ctx: Context, recordRef: string, file: string, options: { name?: string }): Promise<void> {
  const engine = await openEngine(ctx);
  await engine.sync();
  const record = resolveRecord(engine, recordRef);
  const size = (await stat(file).catch(() => null))?.size;
  if (size === undefined) throw new CliError(`cannot read ${file}: no such file`, EXIT.notFound);
  const response = await transferring(() =>
    uploadImage(ctx.client, {
      recordId: record.id,
      path: file,
      fileName: options.name,
      vaultKey: engine.encrypted ? engine.unlockedKey : null,
      onProgress: progressBar(size, 'uploading'),
    }),
  );
  await engine.sync();
  const image = response.image;
  const state = image ? engine.image(image.id) : undefined;
  const what = state ? `${escapeControls(displayFileName(state, engine.unlockedKey))}, ${formatBytes(state.original.size)}` : file;
  const next = engine.encrypted ? 'sealed on this machine, cover made here' : 'the cover and compact copy are being made';
  ctx.out(`${response.duplicate ? 'already attached' : 'attached'} image ${image?.id ?? '?'} (${what}) to "${escapeControls(record.name)}"; ${next}`);
}

export async function imageListCommand(ctx: Context, recordRef: string | undefined, options: { json?: boolean }): Promise<void> {
  const engine = await openEngine(ctx);
  await syncIfOnline(ctx, engine);
  const images = recordRef === undefined ? engine.allImages() : engine.imagesOf(resolveRecord(engine, recordRef).id);
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
  const engine = await openEngine(ctx);
  await engine.sync();
  const image = resolveImage(engine, imageRef);
  const name = savedFileName(image, rendition, engine.unlockedKey);
  const target = options.out ? await targetPath(options.out, name) : join(ctx.home, 'images', image.id.slice(0, 8), name);
  const size = rendition === 'original' ? image.original.size : ((rendition === 'cover' ? image.cover : image.compact)?.size ?? 0);
  const path = await transferring(() =>
    downloadImage(ctx.client, { image, rendition, target, vaultKey: engine.unlockedKey, onProgress: progressBar(size, 'downloading') }),
  );
  await engine.linkImageFile(image.id, rendition, path);
  ctx.out(path);
}

export async function imageRemoveCommand(ctx: Context, imageRef: string): Promise<void> {
  const engine = await openEngine(ctx);
  await engine.sync();
  const image = resolveImage(engine, imageRef);
  await ctx.client.deleteImage(image.id);
  await engine.sync();
  ctx.out(`removed image ${image.id} (${escapeControls(displayFileName(image, engine.unlockedKey))})`);
}

function parseRendition(value: string): ImageRendition {
  if ((IMAGE_RENDITIONS as readonly string[]).includes(value)) return value as ImageRendition;
  throw new CliError(`--rendition ${value}: must be one of ${IMAGE_RENDITIONS.join(', ')}`, EXIT.usage);
}

/** An image by full id or a unique id prefix of 4+ characters. */
function resolveImage(engine: SyncEngine, ref: string): ImageState {
  const needle = ref.toLowerCase();
  const matches = engine.allImages().filter((image) => image.id === needle || (needle.length >= 4 && image.id.startsWith(needle)));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no image matches "${ref}" (give its id or an id prefix of 4+ characters; keeper image ls lists them)`, EXIT.notFound);
  throw new CliError(`"${ref}" matches ${matches.length} images; give more of the id`, EXIT.usage);
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
