import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'kbl1.';
/** Binds the ciphertext to its purpose: the same key sealing anything else would not open as links. */
const ASSOCIATED = Buffer.from('keeper bot links v1');

export class LinkFileUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkFileUnreadable';
  }
}

/**
 * The key that seals the bot's links file (AES-256-GCM). The file holds each linked user's server
 * session, which the bot must use again after a restart with no one at hand to type a secret, so
 * the key is a file the bot reads at start: made once (0600) beside the links, or kept elsewhere
 * (`KEEPER_BOT_LINKS_KEY_FILE`: a secret mount) so that a copy of the data directory alone, a
 * backup say, opens nothing. A key derived from the bot token was not taken: revoking a leaked
 * token with BotFather would then lose every link.
 */
export class LinkCipher {
  private constructor(private readonly key: Buffer) {}

  static async fromKeyFile(path: string): Promise<LinkCipher> {
    try {
      const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
      if (key.length !== KEY_BYTES) throw new LinkFileUnreadable(`the links key file ${path} does not hold a ${KEY_BYTES}-byte key`);
      return new LinkCipher(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const key = randomBytes(KEY_BYTES);
    // 'wx': two bots starting on one directory cannot each make a key and lock the other out.
    await writeFile(path, key.toString('base64url') + '\n', { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    return LinkCipher.fromKeyFile(path);
  }

  seal(plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(ASSOCIATED);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  open(text: string): string {
    if (!text.startsWith(PREFIX)) throw new LinkFileUnreadable('the links file is not one the bot wrote');
    const bytes = Buffer.from(text.slice(PREFIX.length).trim(), 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new LinkFileUnreadable('the links file is cut short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
    decipher.setAAD(ASSOCIATED);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new LinkFileUnreadable('the links file does not open with the links key (another key, or the file was changed)');
    }
  }
}
