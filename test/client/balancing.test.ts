import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { postgresTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { bearer, callUnary, openClients, type GrpcClients } from '../../src/client/grpc-channel.js';
import type { Mutation, PushResponse } from '../../src/gen/keeper/v1/vault.js';

function note(): Mutation {
  return { mutationId: randomUUID(), change: { $case: 'create', value: { recordId: randomUUID(), kind: 'note', name: 'balanced', fields: [], conflictOf: '', tags: [], favourite: false } } };
}

/**
 * Three replicas over one PostgreSQL database, each behind a TCP relay the test can cut (a replica
 * gone without a word) and whose bytes tell which replica a call went to. The calls go through the
 * bare gRPC clients, without the client core's own retry, so what is checked is the channel's
 * balancing and its retry policy.
 */
(postgresTarget ? describe : describe.skip)('balancing over replicas (PostgreSQL)', function () {
  let servers: TestServer[] = [];
  let proxies: TcpProxy[] = [];
  let target = '';
  const opened: { close(): void }[] = [];

  before(async function () {
    const first = await startTestServer(postgresTarget!);
    servers = [first, await startTestServer(postgresTarget!, { replicaOf: first }), await startTestServer(postgresTarget!, { replicaOf: first })];
    proxies = await Promise.all(servers.map((server) => startTcpProxy(server.address)));
    target = proxies.map((proxy) => proxy.address).join(', ');
  });

  after(async function () {
    for (const item of opened) item.close();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const server of [...servers].reverse()) await server.close();
  });

  async function user(): Promise<{ token: string; grpc: GrpcClients }> {
    const client = new KeeperClient({ server: target.replaceAll(' ', ''), tls: false }, new MemoryTokenStore(), 10_000);
    opened.push(client);
    const session = await client.register(`rr-${randomUUID().slice(0, 8)}`, 'correct horse battery');
    const grpc = openClients({ server: target.replaceAll(' ', ''), tls: false });
    opened.push(grpc);
    return { token: session.accessToken, grpc };
  }

  function push(grpc: GrpcClients, token: string, expectedVersion: number, mutations: Mutation[]): Promise<PushResponse> {
    return callUnary(grpc.vault.push.bind(grpc.vault), { expectedVersion, clientId: 'balanced', mutations }, bearer(token), 10_000);
  }

  it('spreads calls over every replica of a host:port list', async function () {
    const { token, grpc } = await user();
    const status = () => callUnary(grpc.vault.status.bind(grpc.vault), {}, bearer(token), 10_000);
    // round_robin picks among the replicas connected so far: let it connect to all three first.
    for (let i = 0; i < 6; i++) await status();
    await sleep(300);
    const before = proxies.map((proxy) => proxy.received());
    for (let i = 0; i < 60; i++) await status();
    const grown = proxies.map((proxy, i) => proxy.received() - before[i]!);
    const total = grown.reduce((a, b) => a + b, 0);
    for (const share of grown) expect(share / total, `bytes per replica: ${grown.join(', ')}`).to.be.within(0.2, 0.47);
  });

  it('reaches the replicas a dns:/// name resolves to', async function () {
    const { token } = await user();
    const port = servers[2]!.address.split(':')[1];
    const grpc = openClients({ server: `dns:///localhost:${port}`, tls: false });
    opened.push(grpc);
    expect((await callUnary(grpc.vault.status.bind(grpc.vault), {}, bearer(token), 10_000)).version).to.equal(0);
  });

  it('keeps every push going through the others when a replica is cut, each landing once', async function () {
    const users = await Promise.all([0, 1, 2, 3].map(() => user()));
    const PUSHES = 25;
    const sent: Mutation[][][] = users.map(() => []);
    let cut = false;
    await Promise.all(
      users.map(async ({ token, grpc }, u) => {
        for (let i = 0; i < PUSHES; i++) {
          if (u === 0 && i === 8 && !cut) {
            cut = true;
            proxies[1]!.cut();
          }
          const mutations = [note()];
          sent[u]!.push(mutations);
          const answer = await push(grpc, token, i, mutations);
          expect(answer.result?.$case, `user ${u} push ${i}`).to.equal('accepted');
        }
      }),
    );
    expect(cut).to.equal(true);
    for (const [u, { token, grpc }] of users.entries()) {
      const status = await callUnary(grpc.vault.status.bind(grpc.vault), {}, bearer(token), 10_000);
      expect(status.version, `user ${u}`).to.equal(PUSHES);
      // The same mutations again (a client that never heard the answer): recognised, nothing appended.
      const again = await push(grpc, token, 4, sent[u]![4]!);
      expect(again.result).to.deep.include({ $case: 'accepted' });
      expect(again.result?.$case === 'accepted' && again.result.value.duplicate).to.equal(true);
      expect((await callUnary(grpc.vault.status.bind(grpc.vault), {}, bearer(token), 10_000)).version).to.equal(PUSHES);
    }
    proxies[1]!.mend();
  });
});
