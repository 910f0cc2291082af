import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';

/**
 * The core's answer to "what did that pull change?" (SyncReport.changed), which the TUI uses to
 * refresh the open record: records changed elsewhere are named, this client's own pushes are not.
 */
describe('sync report: records changed elsewhere', function () {
  this.timeout(60_000);
  let server: TestServer;
  const homes: string[] = [];
  const home = async () => {
    homes.push(await mkdtemp(join(tmpdir(), 'keeper-tui-sync-')));
    return homes[homes.length - 1]!;
  };

  before(async () => {
    server = await startTestServer(pgliteTarget);
  });
  after(async () => {
    await server.close();
    await Promise.all(homes.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('names the records other devices changed, never the ones this device pushed', async () => {
    const login = `tui-${randomUUID().slice(0, 8)}`;
    const [a, b] = [await server.client(), await server.client()];
    const session = await a.register(login, 'correct horse battery');
    await b.login(login, 'correct horse battery');
    const open = (client: typeof a, clientId: string, home: string) => SyncEngine.open({ transport: grpcVaultTransport(client), server: server.address, home, userId: session.userId, clientId });
    const first = await open(a, 'device-a', await home());
    const second = await open(b, 'device-b', await home());

    const bank = await first.create({ kind: 'login', name: 'Bank', fields: [] });
    const mail = await first.create({ kind: 'login', name: 'Mail', fields: [] });
    const own = await first.sync();
    expect(own.pushed).to.equal(2);
    expect(own.changed).to.deep.equal([]);

    const pulled = await second.sync();
    expect(pulled.transfer).to.not.equal('none');
    await second.update(bank, { setFields: [{ name: 'user', value: 'erin', sensitive: false }] });
    expect((await second.sync()).changed).to.deep.equal([]);

    const mine = await first.create({ kind: 'note', name: 'Mine', fields: [] });
    const mixed = await first.sync();
    expect(mixed.changed).to.deep.equal([bank]);
    expect(mixed.changed).to.not.include(mine);
    expect(mixed.changed).to.not.include(mail);
    expect(first.record(bank)!.fields).to.deep.equal([{ name: 'user', value: 'erin', sensitive: false }]);
    expect((await first.sync()).changed).to.deep.equal([]);
  });
});
