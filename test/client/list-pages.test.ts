import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { expect } from 'chai';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { VaultServiceService, type ListRequest, type ListResponse, type Record as WireRecord } from '../../src/gen/keeper/v1/vault.js';

/**
 * The client's side of a paged List against a scripted server (a real gRPC server on a socket):
 * each script answers one List call.
 */
type Script = (call: ServerWritableStream<ListRequest, ListResponse>) => Promise<void>;

const record = (name: string): WireRecord => ({ id: randomUUID(), kind: 'note', name, fields: [], createdAt: 1, updatedAt: 1, version: 1, conflictOf: '', tags: [], favourite: false });
const page = (version: number, ...names: string[]): ListResponse => ({ version, lastModifiedAt: 5, records: names.map(record), images: [], vaultKey: undefined });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeeperClient.list over a paged List', function () {
  this.timeout(30_000);
  let server: Server;
  let address: string;
  let home: string;
  const scripts: Script[] = [];
  const requests: ListRequest[] = [];

  before(async () => {
    server = new Server();
    server.addService(VaultServiceService, {
      list: (call: ServerWritableStream<ListRequest, ListResponse>) => {
        requests.push(call.request);
        const script = scripts.shift();
        if (!script) return call.emit('error', { code: status.INTERNAL, details: 'no script left' });
        script(call).then(
          () => call.end(),
          (error: { code: status; details: string }) => call.emit('error', error),
        );
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    address = `127.0.0.1:${port}`;
    home = await mkdtemp(join(tmpdir(), 'keeper-list-pages-'));
  });
  after(async () => {
    server.forceShutdown();
    await rm(home, { recursive: true, force: true });
  });

  async function client(timeoutMs: number, pageBytes = 0): Promise<KeeperClient> {
    const sessions = new FileTokenStore(home, address);
    const far = Date.now() + 3600_000;
    await sessions.save({ userId: randomUUID(), login: 'scripted', accessToken: 'token', accessExpiresAt: far, refreshToken: 'refresh', refreshExpiresAt: far });
    return new KeeperClient({ server: address, tls: false }, sessions, timeoutMs, '', pageBytes);
  }

  it('puts the pages together, asking for its page size, and takes the vault key from the first page', async () => {
    scripts.push(async (call) => {
      call.write({ ...page(7, 'a', 'b'), vaultKey: { keyId: 'k', envelope: 'e' } });
      call.write(page(7, 'c'));
      call.write({ ...page(7), images: [] });
    });
    const keeper = await client(2000, 128 * 1024);
    try {
      const listed = await keeper.list();
      expect(listed.version).to.equal(7);
      expect(listed.lastModifiedAt).to.equal(5);
      expect(listed.vaultKey).to.deep.equal({ keyId: 'k', envelope: 'e' });
      expect(listed.records.map((r) => r.name)).to.deep.equal(['a', 'b', 'c']);
      expect(requests.at(-1)).to.deep.equal({ pageBytes: 128 * 1024 });
    } finally {
      keeper.close();
    }
  });

  it('lists again when the server ends a listing with ABORTED, keeping nothing of the aborted one', async () => {
    scripts.push(async (call) => {
      call.write(page(3, 'stale'));
      throw { code: status.ABORTED, details: 'the vault changed while it was being listed; list again' };
    });
    scripts.push(async (call) => {
      call.write(page(4, 'fresh'));
    });
    const keeper = await client(2000);
    try {
      const listed = await keeper.list();
      expect(listed.version).to.equal(4);
      expect(listed.records.map((r) => r.name)).to.deep.equal(['fresh']);
    } finally {
      keeper.close();
    }
  });

  it('gives up with ABORTED when the vault keeps changing', async () => {
    for (let i = 0; i < 5; i++) scripts.push(async () => Promise.reject({ code: status.ABORTED, details: 'the vault changed while it was being listed; list again' }));
    const keeper = await client(2000);
    try {
      const error = await keeper.list().then(
        () => undefined,
        (e: { code: status }) => e,
      );
      expect(error?.code).to.equal(status.ABORTED);
      expect(scripts).to.have.length(0);
    } finally {
      keeper.close();
    }
  });

  it('waits the timeout for each page, not for the whole listing, and fails DEADLINE_EXCEEDED when a page does not come', async () => {
    scripts.push(async (call) => {
      // Five pages 500 ms apart: 2.5 s in all, longer than the timeout, each page well within it.
      for (let i = 0; i < 5; i++) {
        await sleep(500);
        call.write(page(9, `slow ${i}`));
      }
    });
    const keeper = await client(2000);
    try {
      expect((await keeper.list()).records).to.have.length(5);
      scripts.push(async (call) => {
        call.write(page(9, 'first'));
        await sleep(10_000);
      });
      const started = Date.now();
      const error = await keeper.list().then(
        () => undefined,
        (e: { code: status; details: string }) => e,
      );
      expect(error?.code).to.equal(status.DEADLINE_EXCEEDED);
      expect(error?.details).to.equal('no page of the listing within 2000 ms');
      // Well before the server would have ended the call itself.
      expect(Date.now() - started).to.be.below(9000);
    } finally {
      keeper.close();
    }
  });
});
