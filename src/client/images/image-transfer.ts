import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { makeDirectory } from '../../lib/writable-dir.js';
import { basename, dirname, extname, join } from 'node:path';
import { ACCEPTED_IMAGE_NAMES, ACCEPTED_IMAGE_TYPES, imageExtension, imageTypeFromName } from '../../domain/image-types.js';
import type { ImageRendition, ImageState } from '../../domain/images.js';
import type { DownloadHeader, UploadImageResponse } from '../../gen/keeper/v1/images.js';
import { renditionToWire } from '../../wire/images.js';
import { sniffImageType } from '../../imaging/sniff.js';
import { openBytes, openValue, sealBytes, sealValue, type VaultKey } from '../crypto/index.js';
import type { KeeperClient } from '../keeper-client.js';

/** The server takes chunks of at most 64 KiB. */
const CHUNK_BYTES = 64 * 1024;

export type Progress = (done: number, total: number) => void;

/** A local file that cannot be sent, or a download that did not arrive intact; the message says which. */
export class ImageTransferError extends Error {
  constructor(
    /** missing_file and bad_file: the user's file; locked: needs the secret word; damaged: the bytes that arrived. */
    readonly kind: 'missing_file' | 'bad_file' | 'locked' | 'damaged',
    message: string,
  ) {
    super(message);
    this.name = 'ImageTransferError';
  }
}

export interface UploadInput {
  recordId: string;
  path: string;
  /** Defaults to the file's own name. */
  fileName?: string | undefined;
  /** Set when the vault is encrypted: the picture is sealed before it leaves this machine. */
  vaultKey?: VaultKey | null | undefined;
  onProgress?: Progress | undefined;
}

/**
 * An upload made ready to send, every check done: in the clear the file itself (streamed from
 * disk when sent), sealed the original and its cover already sealed with the vault key, bound to
 * the record and this image id. The same image id on a second send is the server's duplicate,
 * so a prepared upload can be sent again (it is what the offline queue keeps).
 */
export interface PreparedUpload {
  imageId: string;
  recordId: string;
  /** The name as sent: sealed when the vault is encrypted. */
  fileName: string;
  encrypted: boolean;
  /** In the clear: the file to stream. */
  path?: string | undefined;
  /** Sealed: the original's and the cover's sealed bytes. */
  sealed?: { original: Buffer; cover: Buffer } | undefined;
}

/**
 * Checks a file and makes it ready to send. In the clear the file is only looked at (the server
 * checks the picture, unless `checkType` asks for the check here too, for an upload that will wait
 * in the queue); sealed, it is read once, its cover made here (the server cannot see it) and both
 * sealed.
 */
export async function prepareUpload(input: UploadInput & { imageId?: string | undefined; checkType?: boolean }): Promise<PreparedUpload> {
  const info = await stat(input.path).catch(() => {
    throw new ImageTransferError('missing_file', `cannot read ${input.path}: no such file`);
  });
  if (!info.isFile()) throw new ImageTransferError('bad_file', `${input.path} is not a file`);
  const imageId = input.imageId ?? randomUUID();
  const fileName = input.fileName ?? basename(input.path);
  if (!input.vaultKey) {
    if (input.checkType) await requireImageFile(input.path);
    return { imageId, recordId: input.recordId, fileName, encrypted: false, path: input.path };
  }
  const key = input.vaultKey;
  const plain = await readFile(input.path);
  requireImage(input.path, plain.subarray(0, 32));
  // sharp (libvips) is loaded only here, for a sealed upload, not when a CLI or the TUI starts.
  const { makeCover } = await import('../../imaging/renditions.js');
  const cover = await makeCover(plain).catch((error: unknown) => {
    throw new ImageTransferError('bad_file', `${input.path} cannot be read as an image: ${error instanceof Error ? error.message : String(error)}`);
  });
  const sealedName = sealValue(key, fileName, { recordId: input.recordId, field: imageId, purpose: 'name' });
  const original = sealBytes(key, plain, imageContext(input.recordId, imageId, 'original'));
  plain.fill(0);
  const sealedCover = sealBytes(key, cover.bytes, imageContext(input.recordId, imageId, 'cover'));
  return { imageId, recordId: input.recordId, fileName: sealedName, encrypted: true, sealed: { original, cover: sealedCover } };
}

/** Refuses a file that does not start as a picture Keeper takes (what the server checks first). */
export async function requireImageFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(32);
  try {
    await handle.read(head, 0, 32, 0);
  } finally {
    await handle.close();
  }
  requireImage(path, head);
}

function requireImage(path: string, head: Uint8Array): void {
  const type = sniffImageType(head);
  if (!type || !ACCEPTED_IMAGE_TYPES.has(type)) throw new ImageTransferError('bad_file', `${path} is not an image Keeper takes (${ACCEPTED_IMAGE_NAMES})`);
}

/** Sends a prepared upload: in the clear the file streamed from disk (hashed first), sealed the original, then its cover. */
export async function sendUpload(client: KeeperClient, upload: PreparedUpload, onProgress?: Progress): Promise<UploadImageResponse> {
  const { imageId, recordId, fileName } = upload;
  if (!upload.sealed) {
    const path = upload.path!;
    const size = (await stat(path)).size;
    const sha256 = await hashFile(path);
    return client.uploadImage(
      { imageId, recordId, fileName, declaredType: imageTypeFromName(fileName) ?? 'application/octet-stream', size, sha256, encrypted: false, rendition: renditionToWire('original') },
      () => withProgress(createReadStream(path, { highWaterMark: CHUNK_BYTES }), size, onProgress),
    );
  }
  const { original, cover } = upload.sealed;
  const attached = await client.uploadImage(
    { imageId, recordId, fileName, declaredType: 'application/octet-stream', size: original.length, sha256: sha256Of(original), encrypted: true, rendition: renditionToWire('original') },
    () => withProgress(chunksOf(original), original.length, onProgress),
  );
  return client
    .uploadImage(
      { imageId, recordId, fileName, declaredType: 'application/octet-stream', size: cover.length, sha256: sha256Of(cover), encrypted: true, rendition: renditionToWire('cover') },
      () => chunksOf(cover),
    )
    .then((withCover) => ({ ...withCover, version: Math.max(withCover.version, attached.version) }));
}

/**
 * Uploads a file as a new image of a record. In the clear the file is streamed from disk (read
 * twice: once for its hash, once to send); sealed, it is read once, its cover made here (the
 * server cannot see it), and both are sealed with the vault key, bound to the record and image.
 */
export async function uploadImage(client: KeeperClient, input: UploadInput): Promise<UploadImageResponse> {
  return sendUpload(client, await prepareUpload(input), input.onProgress);
}

export interface DownloadInput {
  image: ImageState;
  rendition: ImageRendition;
  /** Where to write; a directory gets the image's own name. */
  target: string;
  vaultKey?: VaultKey | null | undefined;
  onProgress?: Progress | undefined;
}

/**
 * Downloads one rendition to a file: written to a temporary name, checked against the server's
 * sha256 (and opened with the vault key when sealed), then renamed into place. Answers the path.
 */
export async function downloadImage(client: KeeperClient, input: DownloadInput): Promise<string> {
  const { image, rendition } = input;
  if (image.encrypted && !input.vaultKey) throw new ImageTransferError('locked', 'this image is sealed: unlock the vault to download it');
  let header: DownloadHeader | undefined;
  const hash = createHash('sha256');
  const sealedParts: Buffer[] = [];
  let received = 0;
  const temp = join(dirname(input.target), `.${basename(input.target)}.${randomUUID()}.part`);
  await makeDirectory(dirname(input.target));
  const file = await open(temp, 'w', 0o600);
  try {
    await client.downloadImage(
      image.id,
      renditionToWire(rendition),
      (h) => {
        header = h;
      },
      async (chunk) => {
        hash.update(chunk);
        received += chunk.length;
        if (image.encrypted) sealedParts.push(chunk);
        else await file.write(chunk);
        input.onProgress?.(received, Number(header?.size ?? 0));
      },
    );
    if (!header) throw new ImageTransferError('damaged', 'the server sent no image header');
    if (received !== Number(header.size) || hash.digest('hex') !== header.sha256) {
      throw new ImageTransferError('damaged', `the ${rendition} of image ${image.id} arrived damaged (size or sha256 differ); nothing was saved`);
    }
    if (image.encrypted) {
      const plain = openBytes(input.vaultKey!, Buffer.concat(sealedParts), imageContext(image.recordId, image.id, rendition));
      await file.write(plain);
      plain.fill(0);
    }
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
  await rename(temp, input.target);
  return input.target;
}

/** The file name an image is saved under: its own name, with the rendition for cover and compact. */
export function savedFileName(image: ImageState, rendition: ImageRendition, vaultKey?: VaultKey | null): string {
  const name = displayFileName(image, vaultKey);
  const type = rendition === 'original' ? image.original.type : ((rendition === 'cover' ? image.cover : image.compact)?.type ?? image.original.type);
  const ext = extname(name) || imageExtension(type);
  const stem = basename(name, extname(name)) || image.id;
  const suffix = rendition === 'original' ? '' : `.${rendition}`;
  // A rendition is re-encoded (a JPEG, say) whatever the original was: its extension follows its type.
  return `${stem}${suffix}${rendition === 'original' ? ext : imageExtension(type) || ext}`;
}

/** The image's file name as the user gave it (opened with the vault key when sealed). */
export function displayFileName(image: ImageState, vaultKey?: VaultKey | null): string {
  if (!image.encrypted) return image.fileName;
  if (!vaultKey) return '(sealed name)';
  try {
    return openValue(vaultKey, image.fileName, { recordId: image.recordId, field: image.id, purpose: 'name' });
  } catch {
    return '(name does not open)';
  }
}

function imageContext(recordId: string, imageId: string, rendition: ImageRendition) {
  return { recordId, field: `${imageId}/${rendition}`, purpose: 'image' as const };
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function* chunksOf(bytes: Buffer): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) yield bytes.subarray(offset, offset + CHUNK_BYTES);
}

async function* withProgress(source: AsyncIterable<Uint8Array | Buffer | string>, total: number, onProgress: Progress | undefined): AsyncIterable<Uint8Array> {
  let sent = 0;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    sent += bytes.byteLength;
    yield bytes;
    onProgress?.(sent, total);
  }
}
