import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createMutation } from '../../src/wire/mutations.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { LIMITS, PAGING } from '../../src/domain/limits.js';
import type { Field } from '../../src/domain/record.js';
import { ListRequest, ListResponse, PullRequest, PullResponse } from '../../src/gen/keeper/v1/vault.js';
import { databaseTargets, type DatabaseTarget } from '../support/databases.js';
import { RawGrpcClient } from '../support/raw-grpc.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';

const MiB = 1024 * 1024;
/** gRPC's default receive limit, which every client here keeps. */
const DEFAULT_RECEIVE = 4 * MiB;
const VALUE = LIMITS.fieldValueMax;
/**
 * 200 MB on real PostgreSQL; PGlite (one connection, in WebAssembly) gets a vault still many times
 * the 4 MiB a default client receives at once, so the test stays within a minute there.
 */
const VAULT_BYTES: Record<string, number> = { PostgreSQL: 200_000_000, PGlite: 24_000_000 };

/** A value that neither compresses nor repeats (like a sealed value: base64 of random bytes). */
const value = () => randomBytes((VALUE * 3) / 4).toString('base64');
const fields = (count: number): Field[] => Array.from({ length: count }, (_, i) => ({ name: `part ${i}`, value: value(), sensitive: i % 2 === 0 }));
const digest = (records: Array<{ id: string; fields: Array<Pick<Field, 'value'>> }>) => {
  const hash = createHash('sha256');
  for (const record of [...records].sort((a, b) => (a.id < b.id ? -1 : 1))) for (const field of record.fields) hash.update(record.id).update(field.value);
  return hash.digest('hex');
};

for (const target of databaseTargets) {
  describe(`a large vault over gRPC (${target.name})`, function () {
    this.timeout(600_000);
    let server: TestServer;
    let token: string;
    let login: string;
    const written: Array<{ id: string; fields: Array<Pick<Field, 'value'>> }> = [];
    let version = 0;
    let bigRecordId = '';
    const homes: string[] = [];

    before(async () => {
      server = await startTestServer(target as DatabaseTarget);
      const writer = await server.client();
      login = `big-${randomUUID().slice(0, 8)}`;
      token = (await writer.register(login, 'correct horse battery')).accessToken;
      // One record as large as a record may be, alone in its push; it must come alone in its message.
      const big = createMutation({ kind: 'note', name: 'the largest record', fields: fields(Math.floor(LIMITS.recordBytesMax / (VALUE + 64))) });
      bigRecordId = big.change?.$case === 'create' ? big.change.value.recordId : '';
      await push(writer, [big]);
      // Then pushes of 3 MiB (8 records of 6 values of 64 KiB) until the vault holds VAULT_BYTES.
      let bytes = LIMITS.recordBytesMax;
      while (bytes < VAULT_BYTES[target.name]!) {
        const batch = Array.from({ length: 8 }, (_, i) => createMutation({ kind: 'custom', name: `record ${written.length + i}`, fields: fields(6) }));
        await push(writer, batch);
        bytes += 8 * 6 * VALUE;
      }
      await server.projected();
    });
    after(async () => {
      await server?.close();
      await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
    });

    async function push(client: KeeperClient, mutations: ReturnType<typeof createMutation>[]) {
      const pushed = await client.push({ expectedVersion: version, clientId: 'writer', mutations });
      expect(pushed.result?.$case).to.equal('accepted');
      version += mutations.length;
      for (const mutation of mutations) if (mutation.change?.$case === 'create') written.push({ id: mutation.change.value.recordId, fields: mutation.change.value.fields });
    }

    /** Each message is within the page asked for, or holds one item alone; all are under the default 4 MiB. */
    function expectPaged(sizes: number[], items: number[], page: number) {
      sizes.forEach((size, i) => {
        expect(size, `message ${i}`).to.be.below(DEFAULT_RECEIVE);
        if (items[i]! > 1) expect(size, `message ${i} of ${items[i]} items`).to.be.at.most(page);
      });
    }

    it('lists and pulls from version 0 with a default client, in messages of at most the page size', async () => {
      const raw = new RawGrpcClient(server.address);
      try {
        const listed = await raw.call('/keeper.v1.VaultService/List', 'serverStream', [Buffer.from(ListRequest.encode({ pageBytes: 0 }).finish())], token, 300_000);
        expect(listed.code, listed.details).to.equal(status.OK);
        const pages = listed.messages.map((message) => ListResponse.decode(message));
        expectPaged(listed.messages.map((m) => m.length), pages.map((p) => p.records.length + p.images.length), PAGING.pageBytesMax);
        expect(pages.every((p) => p.version === version)).to.equal(true);
        const records = pages.flatMap((p) => p.records);
        expect(records).to.have.length(written.length);
        expect(digest(records)).to.equal(digest(written));
        // The largest record is alone in its message.
        expect(pages.find((p) => p.records.some((r) => r.id === bigRecordId))?.records).to.have.length(1);
        expect(listed.messages.length).to.be.greaterThan(VAULT_BYTES[target.name]! / PAGING.pageBytesMax);

        // A client asking for smaller pages gets them.
        const small = 256 * 1024;
        const pulled = await raw.call('/keeper.v1.VaultService/Pull', 'serverStream', [Buffer.from(PullRequest.encode({ sinceVersion: 0, pageBytes: small }).finish())], token, 300_000);
        expect(pulled.code, pulled.details).to.equal(status.OK);
        const batches = pulled.messages.map((message) => PullResponse.decode(message));
        expectPaged(pulled.messages.map((m) => m.length), batches.map((b) => b.events.length), small);
        const events = batches.flatMap((b) => b.events);
        expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: version }, (_, i) => i + 1));
      } finally {
        raw.close();
      }
    });

    it('cold-starts a new device through the sync engine (List, then Pull of the tail)', async () => {
      const home = await mkdtemp(join(tmpdir(), 'keeper-large-'));
      homes.push(home);
      const client = new KeeperClient({ server: server.address, tls: false }, new FileTokenStore(home, server.address));
      const session = await client.login(login, 'correct horse battery');
      try {
        const engine = await SyncEngine.open({ transport: grpcVaultTransport(client), server: server.address, home, userId: session.userId, clientId: 'new-device' });
        const report = await engine.sync();
        expect(report).to.include({ transfer: 'snapshot', version });
        expect(digest(engine.records())).to.equal(digest(written));
        expect(engine.record(bigRecordId)?.fields).to.have.length(written[0]!.fields.length);
      } finally {
        client.close();
      }
    });
  });
}
