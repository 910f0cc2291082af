import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import { started, startKeeper, until, type KeeperProcess } from '../support/keeper-process.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { InterceptingCall, ListenerBuilder, RequesterBuilder, type Interceptor, type Metadata } from '@grpc/grpc-js';
import { bearer, isServiceError, openClients, status, type GrpcClients, type UnaryMethod } from '../../src/client/grpc-channel.js';
import { createMutation } from '../../src/wire/mutations.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';

/**
 * Three `keeper server` processes over one PostgreSQL schema, and clients given all three
 * addresses. Calls go through the bare gRPC clients (the channel's balancing and retry policy,
 * not the client core's own retry): one replica is SIGKILLed under push load, another SIGTERMed,
 * and no call may fail, nothing acknowledged may be lost, and nothing retried may land twice.
 *
 * One failure is the caller's to repeat, not the channel's: a replica killed after its answer
 * began (grpc-js sends a unary answer's headers and message, and its status only once they are
 * written) leaves a call the channel has committed to, so it fails with UNAVAILABLE. Such a call
 * is safe to repeat (the client core repeats a push, which lands once by its mutation id); this
 * test repeats those, and only those, once.
 */
const baseUrl = process.env.KEEPER_DATABASE_URL;
const USERS = 6;

/** A failed call, and whether the server's answer had begun before it failed. */
class CallFailed extends Error {
  constructor(
    readonly error: unknown,
    readonly answerBegan: boolean,
  ) {
    super(isServiceError(error) ? `${status[error.code]} ${error.details}` : String(error));
  }
}

/** A unary call through the channel, noting whether the server's answer began (the channel can no longer repeat it). */
function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata): Promise<Res> {
  let answerBegan = false;
  const noteAnswer: Interceptor = (options, nextCall) =>
    new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((headers, listener, next) =>
          next(headers, new ListenerBuilder().withOnReceiveMetadata((received, onward) => ((answerBegan = true), onward(received))).build()),
        )
        .build(),
    );
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + 10_000, interceptors: [noteAnswer] }, (error, response) =>
      error ? reject(new CallFailed(error, answerBegan)) : resolve(response),
    );
  });
}

/** The call, repeated once when it failed after its answer began with UNAVAILABLE (what the client core does). */
async function callRepeating<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata, repeated: () => void): Promise<Res> {
  try {
    return await call(method, request, metadata);
  } catch (error) {
    if (!(error instanceof CallFailed && error.answerBegan && isServiceError(error.error) && error.error.code === status.UNAVAILABLE)) throw error;
    repeated();
    return call(method, request, metadata);
  }
}

(baseUrl ? describe : describe.skip)('replicas: three keeper servers behind round_robin (PostgreSQL)', function () {
  this.timeout(120_000);
  const schema = `keeper_replicas_${randomBytes(5).toString('hex')}`;
  let admin: pg.Client;
  let dataDir: string;
  const children: KeeperProcess[] = [];
  const proxies: TcpProxy[] = [];
  const opened: { close(): void }[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: baseUrl });
    admin.on('error', () => {});
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    dataDir = await mkdtemp(join(tmpdir(), 'keeper-replicas-'));
  });

  after(async () => {
    for (const item of opened) item.close();
    for (const proxy of proxies) await proxy.close();
    for (const child of children) if (!child.exited) child.process.kill('SIGKILL');
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => {});
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('spreads load over all three, loses and doubles nothing when one is killed, and drains one without a failed call', async () => {
    const url = new URL(baseUrl!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const env = {
      KEEPER_DATABASE_URL: url.toString(),
      KEEPER_TOKEN_KEY: await TokenIssuer.generateSecretKey(),
      KEEPER_DATA_DIR: dataDir,
      KEEPER_BLOB_DIR: join(dataDir, 'blobs'),
      KEEPER_LISTEN: '127.0.0.1:0',
      KEEPER_BCRYPT_COST: '10',
      KEEPER_BLOB_GC_INTERVAL: '0',
      KEEPER_DRAIN_SECONDS: '10',
      KEEPER_LOG_LEVEL: 'warn',
    };
    // The first migrates the schema; the others start on it (no two migrating at once).
    for (const i of [0, 1, 2]) {
      const child = startKeeper(`replica ${i}`, ['server', ...(i === 0 ? [] : ['--projector', 'external'])], env);
      children.push(child);
      const address = String((await started(child, 'keeper server started')).address);
      proxies.push(await startTcpProxy(address));
    }
    const target = proxies.map((proxy) => proxy.address).join(',');

    const users: Array<{ userId: string; grpc: GrpcClients; token: string; version: number; acknowledged: string[] }> = [];
    for (let i = 0; i < USERS; i++) {
      const client = new KeeperClient({ server: target, tls: false }, new MemoryTokenStore(), 10_000);
      opened.push(client);
      const session = await client.register(`replica-${randomUUID().slice(0, 8)}`, 'correct horse battery');
      const grpc = openClients({ server: target, tls: false });
      opened.push(grpc);
      users.push({ userId: session.userId, grpc, token: session.accessToken, version: 0, acknowledged: [] });
    }

    const failures: string[] = [];
    const phases = { before: 0, killed: 0, drained: 0 };
    const repeatedByCaller: string[] = [];
    let phase: keyof typeof phases = 'before';
    let loading = true;
    const load = users.map(async (user) => {
      while (loading) {
        const mutation = createMutation({ kind: 'note', name: `note ${user.acknowledged.length}`, fields: [{ name: 'text', value: 'x'.repeat(200), sensitive: false }] });
        try {
          const repeated = (): void => void repeatedByCaller.push(phase);
          const answer = await callRepeating(user.grpc.vault.push.bind(user.grpc.vault), { expectedVersion: user.version, clientId: 'replicas', mutations: [mutation] }, bearer(user.token), repeated);
          if (answer.result?.$case !== 'accepted') throw new Error(`push not accepted: ${JSON.stringify(answer.result)}`);
          user.version = answer.result.value.version;
          user.acknowledged.push(mutation.mutationId);
          phases[phase]++;
          await callRepeating(user.grpc.vault.status.bind(user.grpc.vault), {}, bearer(user.token), repeated);
        } catch (error) {
          failures.push(`${phase}: ${error instanceof Error ? error.message : String(error)}${error instanceof CallFailed && error.answerBegan ? ' (after its answer began)' : ''}`);
          return;
        }
      }
    });

    await sleep(1500);
    const spread = proxies.map((proxy) => proxy.received());
    const total = spread.reduce((a, b) => a + b, 0);
    for (const share of spread) expect(share / total, `bytes per replica: ${spread.join(', ')}`).to.be.above(0.15);

    phase = 'killed';
    children[1]!.process.kill('SIGKILL');
    await sleep(2000);

    phase = 'drained';
    const termAt = Date.now();
    children[2]!.process.kill('SIGTERM');
    await until('the drained replica to exit', () => children[2]!.exited, 15_000);
    const drainMs = Date.now() - termAt;
    await sleep(1000);
    loading = false;
    await Promise.all(load);

    expect(failures, 'failed calls').to.deep.equal([]);
    // Only calls in flight on the killed replica can have been committed: one per user at most.
    expect(repeatedByCaller.filter((name) => name !== 'killed'), 'calls the caller repeated outside the kill').to.deep.equal([]);
    expect(repeatedByCaller.length, 'calls the caller repeated').to.be.at.most(USERS);
    expect(children[2]!.exited, children[2]!.stderr.join('\n')).to.deep.equal({ code: 0, signal: null });
    expect(drainMs, 'drain time').to.be.below(11_000);
    expect(children[0]!.exited).to.equal(undefined);
    for (const [name, count] of Object.entries(phases)) expect(count, `pushes acknowledged ${name}`).to.be.above(5);

    // Every acknowledged mutation is in the log exactly once, and nothing else is.
    for (const user of users) {
      const { rows } = await admin.query<{ mutation_id: string }>(
        `SELECT metadata->>'mutationId' AS mutation_id FROM ${pg.escapeIdentifier(schema)}.events WHERE stream_id = $1 ORDER BY version`,
        [`user-${user.userId}`],
      );
      expect(rows.map((row) => row.mutation_id)).to.deep.equal(user.acknowledged);
    }
  });
});
