import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A private directory (0700) where pictures pass through a face in the clear, between the server
 * and the face's caller: the agent's uploads and downloads, the bot's photos. Whatever a crash
 * left there is removed when the face starts.
 */
export class Spool {
  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<Spool> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new Spool(dir);
  }

  /** A new file's path in the spool (made again if it was removed meanwhile); the caller removes the file. */
  async file(purpose: 'upload' | 'download'): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    return join(this.dir, `${purpose}-${randomUUID()}`);
  }

  /** Runs `work` with a new spool file, removed afterwards whatever happened. */
  async holding<T>(purpose: 'upload' | 'download', work: (path: string) => Promise<T>): Promise<T> {
    const path = await this.file(purpose);
    try {
      return await work(path);
    } finally {
      await rm(path, { force: true });
    }
  }
}
