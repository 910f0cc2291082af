import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../lib/atomic-file.js';
import { keptPath } from './kept-path.js';

export const sessionSchema = z.object({
  userId: z.string(),
  login: z.string(),
  accessToken: z.string(),
  accessExpiresAt: z.number(),
  refreshToken: z.string(),
  refreshExpiresAt: z.number(),
});

export type StoredSession = z.infer<typeof sessionSchema>;

/**
 * Where a client keeps one user's tokens between calls. The per-user client renews them through
 * it; a process holding many users gives each its own store.
 */
export interface TokenStore {
  load(): Promise<StoredSession | undefined>;
  save(session: StoredSession): Promise<void>;
  clear(): Promise<void>;
}

/** The tokens of the user logged in to one server (the CLI's and the TUI's), in a file only the owner can read. */
export class FileTokenStore implements TokenStore {
  private readonly path: string;

  constructor(home: string, server: string) {
    this.path = keptPath(home, 'sessions', server, '.json');
  }

  async load(): Promise<StoredSession | undefined> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return undefined;
    try {
      // One object, read once per process: not worth zod compiling a parser for it.
      return sessionSchema.parse(JSON.parse(text), { jitless: true });
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

/**
 * Tokens held in process memory only (the HTTP agent, the bot). A process that keeps its users'
 * sessions beyond its own life (the bot's chat links) is told of every change through `onChange`
 * and writes them down itself; the agent keeps none.
 */
export class MemoryTokenStore implements TokenStore {
  private session: StoredSession | undefined;
  /** Told of each new session (a login, a refresh) and of its end (undefined). */
  onChange: ((session: StoredSession | undefined) => void) | undefined;

  constructor(session?: StoredSession) {
    this.session = session && sessionSchema.parse(session);
  }

  async load(): Promise<StoredSession | undefined> {
    return this.session && { ...this.session };
  }

  async save(session: StoredSession): Promise<void> {
    this.session = sessionSchema.parse(session);
    this.onChange?.({ ...this.session });
  }

  async clear(): Promise<void> {
    this.session = undefined;
    this.onChange?.(undefined);
  }
}
