import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { LinkBook } from '../../src/client/bot/link-book.js';
import { createLogger } from '../../src/logging.js';

const logger = createLogger('silent', 'test');
const session = { userId: 'u-1', login: 'ann', accessToken: 'access-token-of-ann', accessExpiresAt: 1, refreshToken: 'refresh-token-of-ann', refreshExpiresAt: 2 };
const link = { chatId: 42, telegramUserId: 42, userId: 'u-1', login: 'ann', linkedAt: 1, usedAt: 1 };

describe('the bot’s link book', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-links-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps links and sessions across a reopen, sealed at rest with a key file only the owner reads', async () => {
    const book = await LinkBook.open(dir, undefined, logger);
    book.setLink(link);
    book.setSession('u-1', session);
    await book.flush();
    const sealed = await readFile(join(dir, 'links.sealed'), 'utf8');
    for (const plain of ['ann', 'refresh-token-of-ann', 'access-token-of-ann', 'u-1']) expect(sealed).to.not.contain(plain);
    expect((await stat(join(dir, 'links.key'))).mode & 0o777).to.equal(0o600);

    const again = await LinkBook.open(dir, undefined, logger);
    expect(again.link(42)).to.deep.equal(link);
    expect(again.session('u-1')).to.deep.equal(session);
  });

  it('ends every link of a user whose session ended', async () => {
    const book = await LinkBook.open(dir, undefined, logger);
    book.setLink(link);
    book.setLink({ ...link, chatId: 43, telegramUserId: 43 });
    book.setLink({ ...link, chatId: 44, userId: 'u-2' });
    book.setSession('u-1', session);
    book.setSession('u-1', undefined);
    await book.flush();
    const again = await LinkBook.open(dir, undefined, logger);
    expect(again.all().map((l) => l.chatId)).to.deep.equal([44]);
    expect(again.session('u-1')).to.equal(undefined);
  });

  it('sets aside a file that was changed, or sealed with another key, and starts empty', async () => {
    const book = await LinkBook.open(dir, undefined, logger);
    book.setLink(link);
    await book.flush();
    const path = join(dir, 'links.sealed');
    const sealed = await readFile(path, 'utf8');
    const flipped = sealed.slice(0, -5) + (sealed.at(-5) === 'A' ? 'B' : 'A') + sealed.slice(-4);
    await writeFile(path, flipped);
    const damaged = await LinkBook.open(dir, undefined, logger);
    expect(damaged.all()).to.deep.equal([]);
    expect((await readdir(dir)).some((name) => name.startsWith('links.sealed.unreadable-'))).to.equal(true);

    await writeFile(path, sealed);
    const otherKey = join(dir, 'elsewhere.key');
    const withOtherKey = await LinkBook.open(dir, otherKey, logger);
    expect(withOtherKey.all()).to.deep.equal([]);
    expect((await stat(otherKey)).mode & 0o777).to.equal(0o600);
  });

  it('refuses a key file that holds no key of the right size', async () => {
    await writeFile(join(dir, 'links.key'), 'short');
    let refused: unknown;
    await LinkBook.open(dir, undefined, logger).catch((error) => (refused = error));
    expect(String(refused)).to.match(/does not hold a 32-byte key/);
  });
});
