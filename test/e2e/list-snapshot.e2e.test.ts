import { randomBytes, randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createMutation, updateMutation } from '../../src/wire/mutations.js';
import type { KeeperClient } from '../../src/client/keeper-client.js';
import { LIMITS } from '../../src/domain/limits.js';
import { VaultServiceClient, type ListResponse } from '../../src/gen/keeper/v1/vault.js';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const RECORDS = 90;

for (const target of databaseTargets) {
  describe(`List as one snapshot across its pages (${target.name})`, function () {
    this.timeout(180_000);
    let server: TestServer;
    let writer: KeeperClient;
    let token: string;
    let version = 0;
    const ids: string[] = [];

    before(async () => {
      server = await startTestServer(target);
      writer = await server.client();
      token = (await writer.register(`pages-${randomUUID().slice(0, 8)}`, 'correct horse battery')).accessToken;
      // About 6 MB: more than the server reads from the read model at once (4 MiB), so it reads it
      // in two parts, and the first part alone is more pages than the server writes before it
      // waits for the client.
      for (let i = 0; i < RECORDS; i += 30) {
        const mutations = Array.from({ length: 30 }, (_, k) =>
          createMutation({ kind: 'note', name: `note ${i + k}`, fields: [{ name: 'text', value: randomBytes(LIMITS.fieldValueMax / 2).toString('hex'), sensitive: false }] }),
        );
        for (const mutation of mutations) if (mutation.change?.$case === 'create') ids.push(mutation.change.value.recordId);
        await writer.push({ expectedVersion: version, clientId: 'writer', mutations });
        version += mutations.length;
      }
      await server.projected();
    });
    after(async () => server?.close());

    it('ends a listing with ABORTED when the vault changes between its pages, and a new listing sees the change', async () => {
      const reader = new VaultServiceClient(server.address, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      try {
        const pages: ListResponse[] = [];
        const outcome = await new Promise<ServiceError | null>((resolve) => {
          const stream = reader.list({ pageBytes: 64 * 1024 }, metadata);
          let changed = false;
          stream.on('data', (page: ListResponse) => {
            pages.push(page);
            if (changed) return;
            changed = true;
            // Stop reading (HTTP/2 flow control holds the server back) while the vault changes.
            stream.pause();
            void (async () => {
              await writer.push({ expectedVersion: version, clientId: 'writer', mutations: [updateMutation(ids[ids.length - 1]!, { name: 'renamed while listed' })] });
              version += 1;
              await server.projected();
              stream.resume();
            })();
          });
          stream.on('error', (error: ServiceError) => resolve(error));
          stream.on('end', () => resolve(null));
        });
        expect(outcome?.code, 'the listing must not end as if it were one snapshot').to.equal(status.ABORTED);
        expect(outcome?.details).to.equal('the vault changed while it was being listed; list again');
        expect(pages.every((page) => page.version === RECORDS)).to.equal(true);
      } finally {
        reader.close();
      }

      const listed = await writer.list();
      expect(listed.version).to.equal(RECORDS + 1);
      expect(listed.records.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
      expect(listed.records.find((r) => r.id === ids[ids.length - 1])?.name).to.equal('renamed while listed');
    });
  });
}
