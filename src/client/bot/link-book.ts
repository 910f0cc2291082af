import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readFileIfExists, writeFileAtomic } from '../../lib/atomic-file.js';
import { sessionSchema, type StoredSession } from '../token-store.js';
import { LinkCipher, LinkFileUnreadable } from './link-cipher.js';

const HOUR = 3_600_000;

const linkSchema = z.object({
  chatId: z.number().int(),
  telegramUserId: z.number().int(),
  userId: z.string().min(1),
  login: z.string().min(1),
  linkedAt: z.number(),
  usedAt: z.number(),
});

/** A chat linked to the Keeper user it sees, and nobody else's. */
export type ChatLink = z.infer<typeof linkSchema>;

const bookSchema = z.object({
  version: z.literal(1),
  links: z.array(linkSchema),
  /** Each linked user's server session, one per user however many chats share it. */
  sessions: z.record(z.string(), sessionSchema),
});

/**
 * The chats linked to Keeper users and those users' server sessions, kept across restarts in one
 * file sealed with AES-256-GCM (see LinkCipher), written atomically after each change. Never a
 * vault key or a secret word: a restarted bot has every vault locked.
 */
export class LinkBook {
  private readonly links = new Map<number, ChatLink>();
  private readonly sessions = new Map<string, StoredSession>();
  private dirty = false;
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly path: string,
    private readonly cipher: LinkCipher,
    private readonly logger: Logger,
  ) {}

  /** The book in `dir` (made empty when there is none; set aside with a warning when it does not open). */
  static async open(dir: string, keyFile: string | undefined, logger: Logger): Promise<LinkBook> {
    const cipher = await LinkCipher.fromKeyFile(keyFile ?? join(dir, 'links.key'));
    const book = new LinkBook(join(dir, 'links.sealed'), cipher, logger);
    await book.load();
    return book;
  }

  all(): ChatLink[] {
    return [...this.links.values()];
  }

  link(chatId: number): ChatLink | undefined {
    return this.links.get(chatId);
  }

  session(userId: string): StoredSession | undefined {
    return this.sessions.get(userId);
  }

  setLink(link: ChatLink): void {
    this.links.set(link.chatId, linkSchema.parse(link));
    this.save();
  }

  removeLink(chatId: number): void {
    if (this.links.delete(chatId)) this.save();
  }

  /** A user's session as it starts or is renewed; undefined when it ended, which ends every link to the user. */
  setSession(userId: string, session: StoredSession | undefined): void {
    if (session) this.sessions.set(userId, session);
    else {
      this.sessions.delete(userId);
      for (const link of this.links.values()) if (link.userId === userId) this.links.delete(link.chatId);
    }
    this.save();
  }

  /** Counts a chat's use; written down at most hourly (the link's age only needs to be known to the day). */
  touch(chatId: number, at: number): void {
    const link = this.links.get(chatId);
    if (!link) return;
    const stale = at - link.usedAt >= HOUR;
    link.usedAt = at;
    if (stale) this.save();
  }

  /** Resolves when what was changed so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private save(): void {
    this.dirty = true;
    this.writing ??= this.write().finally(() => (this.writing = undefined));
  }

  private async write(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const book: z.infer<typeof bookSchema> = { version: 1, links: this.all(), sessions: Object.fromEntries(this.sessions) };
      try {
        await writeFileAtomic(this.path, this.cipher.seal(JSON.stringify(book)), 0o600);
      } catch (error) {
        // The links in memory still serve; the next change tries the disk again.
        this.logger.error({ err: error }, 'the links file could not be written');
      }
    }
  }

  private async load(): Promise<void> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return;
    let book: z.infer<typeof bookSchema>;
    try {
      book = bookSchema.parse(JSON.parse(this.cipher.open(text)));
    } catch (error) {
      const aside = `${this.path}.unreadable-${Date.now()}`;
      await rename(this.path, aside);
      const why = error instanceof LinkFileUnreadable ? error.message : 'its contents are not links the bot wrote';
      this.logger.warn({ why, aside }, 'the links file was set aside: every chat logs in again');
      return;
    }
    for (const link of book.links) this.links.set(link.chatId, link);
    for (const [userId, session] of Object.entries(book.sessions)) this.sessions.set(userId, session);
  }
}
