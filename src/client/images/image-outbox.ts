import { copyFile, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import type { PreparedUpload } from './image-transfer.js';

const metaSchema = z.object({
  imageId: z.uuid(),
  recordId: z.string().min(1),
  fileName: z.string(),
  encrypted: z.boolean(),
  queuedAt: z.number(),
  /** The file's own name, shown in messages; absent when the vault is encrypted (the name is sealed). */
  shownName: z.string().optional(),
});

export type QueuedImage = z.infer<typeof metaSchema>;

/**
 * Uploads waiting for the server, kept on disk in the client's data directory (one directory per
 * image under KEEPER_HOME/outbox/<server>/<user>/) so they survive the process: the bytes first
 * (a copy of the file in the clear, or the sealed original and cover when the vault is
 * encrypted, so nothing readable is added to the disk), then `meta.json`, written atomically
 * last. A directory without it is an add that did not finish and is removed.
 */
export class ImageOutbox {
  readonly dir: string;

  constructor(home: string, server: string, userId: string) {
    this.dir = join(home, 'outbox', encodeURIComponent(server), userId);
  }

  async add(upload: PreparedUpload, shownName: string | undefined, now = Date.now()): Promise<QueuedImage> {
    const dir = join(this.dir, upload.imageId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (upload.sealed) {
      await writeFileAtomic(join(dir, 'original'), upload.sealed.original);
      await writeFileAtomic(join(dir, 'cover'), upload.sealed.cover);
    } else {
      await copyFile(upload.path!, join(dir, 'original'));
      const copy = await open(join(dir, 'original'), 'r+');
      try {
        await copy.sync();
      } finally {
        await copy.close();
      }
    }
    const meta: QueuedImage = { imageId: upload.imageId, recordId: upload.recordId, fileName: upload.fileName, encrypted: upload.encrypted, queuedAt: now, ...(upload.encrypted ? {} : { shownName }) };
    await writeFileAtomic(join(dir, 'meta.json'), JSON.stringify(meta));
    return meta;
  }

  /** The waiting uploads, oldest first; an unfinished or unreadable entry is removed. */
  async list(): Promise<QueuedImage[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: QueuedImage[] = [];
    for (const name of names) {
      const meta = await readFile(join(this.dir, name, 'meta.json'), 'utf8')
        .then((text) => metaSchema.parse(JSON.parse(text)))
        .catch(() => undefined);
      if (meta && meta.imageId === name) out.push(meta);
      else await rm(join(this.dir, name), { recursive: true, force: true });
    }
    return out.sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** A waiting upload as sendUpload takes it. */
  async prepared(image: QueuedImage): Promise<PreparedUpload> {
    const dir = join(this.dir, image.imageId);
    const base = { imageId: image.imageId, recordId: image.recordId, fileName: image.fileName, encrypted: image.encrypted };
    if (!image.encrypted) return { ...base, path: join(dir, 'original') };
    return { ...base, sealed: { original: await readFile(join(dir, 'original')), cover: await readFile(join(dir, 'cover')) } };
  }

  async remove(imageId: string): Promise<void> {
    await rm(join(this.dir, imageId), { recursive: true, force: true });
  }
}
