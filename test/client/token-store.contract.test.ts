import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileTokenStore, MemoryTokenStore, type StoredSession, type TokenStore } from '../../src/client/token-store.js';

function tokens(login: string): StoredSession {
  return { userId: randomUUID(), login, accessToken: `v4.public.${randomUUID()}`, accessExpiresAt: Date.now() + 900_000, refreshToken: randomUUID(), refreshExpiresAt: Date.now() + 86_400_000 };
}

const adapters: Array<{ name: string; make: (home: string) => TokenStore }> = [
  { name: 'file', make: (home) => new FileTokenStore(home, '127.0.0.1:7070') },
  { name: 'memory', make: () => new MemoryTokenStore() },
];

// One contract, every adapter of the TokenStore port.
for (const adapter of adapters) {
  describe(`token store contract: ${adapter.name}`, () => {
    let home: string;
    let store: TokenStore;
    beforeEach(async () => {
      home = await mkdtemp(join(tmpdir(), 'keeper-tokens-'));
      store = adapter.make(home);
    });
    afterEach(() => rm(home, { recursive: true, force: true }));

    it('holds nothing at first, then what was saved last, until cleared', async () => {
      expect(await store.load()).to.equal(undefined);
      await store.save(tokens('ann'));
      const second = tokens('ann');
      await store.save(second);
      expect(await store.load()).to.deep.equal(second);
      await store.clear();
      expect(await store.load()).to.equal(undefined);
    });

    it('is not changed by changing what it gave back', async () => {
      const saved = tokens('ann');
      await store.save(saved);
      const loaded = (await store.load())!;
      loaded.accessToken = 'changed';
      expect(await store.load()).to.deep.equal(saved);
    });
  });
}

describe('token stores', () => {
  it('file: only its owner can read it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keeper-tokens-'));
    try {
      await new FileTokenStore(home, '127.0.0.1:7070').save(tokens('ann'));
      const info = await stat(join(home, 'sessions', '127.0.0.1_7070.json'));
      expect(info.mode & 0o777).to.equal(0o600);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('memory: one store per user keeps many users of one server apart', async () => {
    const stores = new Map(['ann', 'bob', 'cy'].map((login) => [login, new MemoryTokenStore()] as const));
    for (const [login, store] of stores) await store.save(tokens(login));
    await stores.get('bob')!.clear();
    expect((await stores.get('ann')!.load())?.login).to.equal('ann');
    expect(await stores.get('bob')!.load()).to.equal(undefined);
    expect((await stores.get('cy')!.load())?.login).to.equal('cy');
  });
});
