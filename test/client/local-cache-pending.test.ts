import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { LocalCache, type CachePayload } from '../../src/client/sync/local-cache.js';
import { commandSchema } from '../../src/domain/commands.js';

describe('local cache: changes kept unsent under older rules', () => {
  it('still loads a pending change the current input rules refuse (a tab in a name), so it is not set aside with the cache', async () => {
    const home = await mkdtemp(join(tmpdir(), 'keeper-cache-'));
    try {
      const cache = new LocalCache(home, '127.0.0.1:7070', randomUUID());
      const pending = {
        type: 'CreateRecord' as const,
        mutationId: randomUUID(),
        recordId: randomUUID(),
        kind: 'note' as const,
        name: 'written\tbefore',
        fields: [{ name: 'text', value: 'bell\u0007', sensitive: false }],
      };
      expect(commandSchema.safeParse(pending).success, 'the current rules refuse it').to.equal(false);
      const payload: CachePayload = { version: 0, lastModifiedAt: 0, records: [], vaultKey: null, pending: [pending], imageStates: [], imageFiles: {}, savedAt: Date.now() };
      await cache.write(payload, null);
      const header = await cache.readHeader();
      const read = await cache.readBody(header!, null);
      expect(read.pending).to.deep.equal([pending]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
