import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { storedCommandSchema } from '../../domain/commands.js';
import { renditionInfoSchema } from '../../domain/images.js';
import { fieldSchema, recordKindSchema } from '../../domain/record.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { checksumUnwrap, checksumWrap, decryptCache, encryptCache, type VaultKey } from '../crypto/index.js';
import type { CachePayload, ReplicaStore, StoredReplica } from './replica-store.js';
import { keptPath } from '../kept-path.js';

export type { CachePayload, ImageFiles } from './replica-store.js';

const recordStateSchema = z.object({
  id: z.string(),
  kind: recordKindSchema,
  name: z.string(),
  fields: z.array(fieldSchema),
  // A replica kept before tags existed has none.
  tags: z.array(z.string()).default([]),
  favourite: z.boolean().default(false),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number().int(),
  deletedAt: z.number().nullable(),
  conflictOf: z.string().optional(),
});

const imageStateSchema = z.object({
  id: z.string(),
  recordId: z.string(),
  fileName: z.string(),
  original: renditionInfoSchema,
  encrypted: z.boolean(),
  status: z.enum(['processing', 'ready', 'failed']),
  cover: renditionInfoSchema.optional(),
  compact: renditionInfoSchema.optional(),
  failure: z.string().optional(),
  createdAt: z.number(),
  version: z.number().int(),
  detachedAt: z.number().nullable(),
});

const payloadSchema = z.object({
  version: z.number().int().nonnegative(),
  lastModifiedAt: z.number(),
  records: z.array(recordStateSchema),
  vaultKey: z.object({ keyId: z.string(), envelope: z.string() }).nullable(),
  pending: z.array(storedCommandSchema),
  imageStates: z.array(imageStateSchema).default([]),
  imageFiles: z.record(z.string(), z.object({ original: z.string().optional(), cover: z.string().optional(), compact: z.string().optional() })).default({}),
  savedAt: z.number(),
});

/** The readable part of the file: enough to ask for the secret word before anything is decrypted. */
const headerSchema = z.object({
  format: z.literal('keeper-cache'),
  v: z.literal(1),
  userId: z.string(),
  server: z.string(),
  encrypted: z.boolean(),
  vaultKey: z.object({ keyId: z.string(), envelope: z.string() }).nullable(),
  body: z.string(),
});

export type CacheHeader = Omit<z.infer<typeof headerSchema>, 'body'>;

/** A cache file that cannot be trusted; it has been moved aside, and the caller rebuilds from the server. */
export class CacheSetAside extends Error {
  constructor(
    readonly reason: string,
    readonly movedTo: string,
  ) {
    super(`the local cache was unreadable (${reason}); it was moved to ${movedTo} and will be rebuilt from the server`);
    this.name = 'CacheSetAside';
  }
}

/**
 * One file per user and server, written atomically. With encryption on, the body is sealed with
 * the vault key (AES-256-GCM); otherwise it carries a SHA-256 checksum. Either way truncation or
 * tampering is detected and the file is set aside, never trusted and never a crash.
 */
export class LocalCache implements ReplicaStore {
  readonly path: string;

  constructor(
    home: string,
    private readonly server: string,
    private readonly userId: string,
  ) {
    this.path = keptPath(home, 'cache', server, `-${userId}.json`);
  }

  get location(): string {
    return this.path;
  }

  async open(): Promise<StoredReplica | undefined> {
    const header = await this.readHeader();
    if (!header) return undefined;
    return { encrypted: header.encrypted, vaultKey: header.vaultKey, readableLocked: !header.encrypted, read: (key) => this.readBody(header, key) };
  }

  private get context(): string {
    return `${this.userId}@${this.server}`;
  }

  /** The header, or undefined when there is no cache; a damaged file is set aside (CacheSetAside). */
  async readHeader(): Promise<(CacheHeader & { body: string }) | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed;
    try {
      // One object per open: not worth zod compiling a parser for it (the payload's many records are).
      parsed = headerSchema.safeParse(JSON.parse(text), { jitless: true });
    } catch {
      return this.setAside('not valid JSON');
    }
    if (!parsed.success) return this.setAside('unexpected layout');
    if (parsed.data.userId !== this.userId || parsed.data.server !== this.server) return this.setAside('it belongs to another user or server');
    return parsed.data;
  }

  /** The payload behind a header; a wrong key is the caller's problem (checked before), damage sets it aside. */
  async readBody(header: CacheHeader & { body: string }, key: VaultKey | null): Promise<CachePayload> {
    let plain: Buffer;
    try {
      const body = Buffer.from(header.body, 'base64');
      if (header.encrypted) {
        if (!key) throw new Error('the vault key is needed to read an encrypted cache');
        plain = decryptCache(key, body, this.context);
      } else plain = checksumUnwrap(body, this.context);
    } catch (error) {
      return this.setAside(error instanceof Error ? error.message : 'unreadable');
    }
    try {
      return payloadSchema.parse(JSON.parse(plain.toString('utf8'))) as CachePayload;
    } catch {
      return this.setAside('its content does not have the expected shape');
    }
  }

  async write(payload: CachePayload, key: VaultKey | null): Promise<void> {
    if (payload.vaultKey && !key) throw new Error('an encrypted vault is only cached encrypted: unlock first');
    const plain = JSON.stringify(payload);
    const body = key ? encryptCache(key, plain, this.context) : checksumWrap(plain, this.context);
    const header = {
      format: 'keeper-cache' as const,
      v: 1 as const,
      userId: this.userId,
      server: this.server,
      encrypted: key !== null,
      vaultKey: payload.vaultKey,
      body: body.toString('base64'),
    };
    await writeFileAtomic(this.path, JSON.stringify(header));
  }

  private async setAside(reason: string): Promise<never> {
    const movedTo = `${this.path}.corrupt-${Date.now()}`;
    await rename(this.path, movedTo).catch(() => {});
    throw new CacheSetAside(reason, movedTo);
  }
}
