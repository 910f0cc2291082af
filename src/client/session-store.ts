import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../lib/atomic-file.js';

export const sessionSchema = z.object({
  userId: z.string(),
  login: z.string(),
  accessToken: z.string(),
  accessExpiresAt: z.number(),
  refreshToken: z.string(),
  refreshExpiresAt: z.number(),
});

export type StoredSession = z.infer<typeof sessionSchema>;

/** The tokens of the user logged in to one server, in a file only the owner can read. */
export class SessionStore {
  private readonly path: string;

  constructor(home: string, server: string) {
    this.path = join(home, 'sessions', `${server.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
  }

  async load(): Promise<StoredSession | undefined> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return undefined;
    try {
      return sessionSchema.parse(JSON.parse(text));
    } catch {
      // A damaged session file only costs a new login.
      await this.clear();
      return undefined;
    }
  }

  async save(session: StoredSession): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(session));
  }

  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
