import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { generateVaultKey } from '../../src/client/crypto/index.js';
import { LocalCache } from '../../src/client/sync/local-cache.js';
import { MemoryReplicaStore } from '../../src/client/sync/memory-replica-store.js';
import type { CachePayload, ReplicaStore } from '../../src/client/sync/replica-store.js';

function payload(vaultKey: CachePayload['vaultKey'] = null): CachePayload {
  return {
    version: 3,
    lastModifiedAt: 1_700_000_000_000,
    records: [{ id: randomUUID(), kind: 'note', name: 'Diary', fields: [{ name: 'text', value: 'dear diary', sensitive: false }], tags: [], favourite: false, createdAt: 1, updatedAt: 2, version: 2, deletedAt: null }],
    vaultKey,
    pending: [{ type: 'DeleteRecord', mutationId: randomUUID(), recordId: randomUUID() }],
    imageStates: [],
    imageFiles: { [randomUUID()]: { original: '/tmp/x.jpg' } },
    savedAt: 1_700_000_001_000,
  };
}

const adapters: Array<{ name: string; make: () => Promise<{ store: ReplicaStore; cleanup: () => Promise<void> }> }> = [
  {
    name: 'file (LocalCache)',
    async make() {
      const home = await mkdtemp(join(tmpdir(), 'keeper-store-'));
      return { store: new LocalCache(home, '127.0.0.1:7070', randomUUID()), cleanup: () => rm(home, { recursive: true, force: true }) };
    },
  },
  { name: 'memory', make: async () => ({ store: new MemoryReplicaStore(), cleanup: async () => undefined }) },
];

// One contract, every adapter of the ReplicaStore port.
for (const adapter of adapters) {
  describe(`replica store contract: ${adapter.name}`, () => {
    let store: ReplicaStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ store, cleanup } = await adapter.make()));
    afterEach(() => cleanup());

    it('holds nothing at first', async () => {
      expect(await store.open()).to.equal(undefined);
    });

    it('gives back what was written, pending edits and image links included', async () => {
      const written = payload();
      await store.write(written, null);
      const stored = await store.open();
      expect(stored).to.include({ encrypted: false, vaultKey: null });
      expect(await stored!.read(null)).to.deep.equal(written);
    });

    it('keeps what was written, whatever the writer changes in its lists afterwards, and hands out lists of its own', async () => {
      const written = payload();
      const expected = structuredClone(written);
      await store.write(written, null);
      written.pending.push({ type: 'DeleteRecord', mutationId: randomUUID(), recordId: randomUUID() });
      written.records.length = 0;
      const [imageId] = Object.keys(written.imageFiles);
      written.imageFiles[imageId!]!.cover = '/tmp/cover.jpg';
      written.imageFiles[randomUUID()] = { original: '/tmp/y.jpg' };
      const first = await (await store.open())!.read(null);
      expect(first).to.deep.equal(expected);
      first.pending.length = 0;
      first.imageFiles[imageId!]!.compact = '/tmp/compact.jpg';
      expect(await (await store.open())!.read(null)).to.deep.equal(expected);
    });

    it('keeps an encrypted vault only with its key, says so before the body is read, and reads it with the key', async () => {
      const vaultKey = { keyId: randomUUID(), envelope: '{"v":1}' };
      const written = payload(vaultKey);
      await store.write(written, null).then(
        () => expect.fail('an encrypted vault was kept without its key'),
        (error: unknown) => expect(String(error)).to.match(/encrypted/),
      );
      const key = generateVaultKey();
      await store.write(written, key);
      const stored = await store.open();
      expect(stored).to.deep.include({ encrypted: true, vaultKey });
      expect(await stored!.read(key)).to.deep.equal(written);
    });

    it('keeps the last write only, and is not changed by changing what it gave back', async () => {
      await store.write(payload(), null);
      const second = payload();
      await store.write(second, null);
      const read = await (await store.open())!.read(null);
      read.records.length = 0;
      expect(await (await store.open())!.read(null)).to.deep.equal(second);
    });
  });
}
