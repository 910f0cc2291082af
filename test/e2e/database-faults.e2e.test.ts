import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { started, startKeeper, until, type KeeperProcess } from '../support/keeper-process.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { FileTokenStore } from '../../src/client/token-store.js';
import { createMutation } from '../../src/wire/mutations.js';
import { isServiceError, status } from '../../src/client/grpc-channel.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';

/**
 * Cuts the database connections of real `keeper server` and `keeper projector` processes again
 * and again while clients push and list, then checks that no process died, nothing acknowledged
 * was lost or doubled, and the read model catches up. Only this suite's own backends are cut: its
 * processes connect with an application_name of their own (the PostgreSQL is shared).
 */
const baseUrl = process.env.KEEPER_DATABASE_URL;
const FAULT_SECONDS = 12;
const USERS_PER_SERVER = 3;

type Child = KeeperProcess;

(baseUrl ? describe : describe.skip)('database faults: Keeper processes ride through cut connections (PostgreSQL)', function () {
  this.timeout(150_000);
  const suffix = randomBytes(5).toString('hex');
  const schema = `keeper_faults_${suffix}`;
  const appName = `keeper-faults-${suffix}`;
  let admin: pg.Client;
  let dataDir: string;
  const children: Child[] = [];
  const clients: KeeperClient[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: baseUrl });
    admin.on('error', () => {});
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    dataDir = await mkdtemp(join(tmpdir(), 'keeper-faults-'));
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const child of children) if (!child.exited) child.process.kill('SIGKILL');
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => {});
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every process up and every acknowledged mutation exactly once while backends are terminated under push and List load', async () => {
    const url = new URL(baseUrl!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    url.searchParams.set('application_name', appName);
    const env = {
      KEEPER_DATABASE_URL: url.toString(),
      KEEPER_TOKEN_KEY: await TokenIssuer.generateSecretKey(),
      KEEPER_DATA_DIR: dataDir,
      KEEPER_LISTEN: '127.0.0.1:0',
      KEEPER_BCRYPT_COST: '10',
      KEEPER_BLOB_GC_INTERVAL: '0',
      KEEPER_LOG_LEVEL: 'warn',
    };
    // One server projects inline; the other leaves the read model to a `keeper projector`.
    const inline = startKeeper('keeper server (inline projector)', ['server'], env);
    children.push(inline);
    const inlineAddress = String((await started(inline, 'keeper server started')).address);
    const external = startKeeper('keeper server (external projector)', ['server', '--projector', 'external'], env);
    const projector = startKeeper('keeper projector', ['projector'], env);
    children.push(external, projector);
    const externalAddress = String((await started(external, 'keeper server started')).address);
    await started(projector, 'keeper projector started');

    const users: Array<{ client: KeeperClient; userId: string; acknowledged: string[]; version: number }> = [];
    for (const address of [inlineAddress, externalAddress]) {
      for (let i = 0; i < USERS_PER_SERVER; i++) {
        const home = await mkdtemp(join(dataDir, 'client-'));
        const client = new KeeperClient({ server: address, tls: false }, new FileTokenStore(home, address), 10_000);
        clients.push(client);
        const session = await client.register(`faults-${randomUUID().slice(0, 8)}`, 'correct horse battery');
        users.push({ client, userId: session.userId, acknowledged: [], version: 0 });
      }
    }

    const failures = new Map<string, number>();
    const noteFailure = (error: unknown) => {
      const key = isServiceError(error) ? `${status[error.code]}: ${error.details}` : String(error);
      failures.set(key, (failures.get(key) ?? 0) + 1);
    };
    let loading = true;
    const pushLoad = users.map(async (user) => {
      while (loading) {
        const mutation = createMutation({ kind: 'note', name: `note ${user.acknowledged.length}`, fields: [{ name: 'text', value: 'x'.repeat(200), sensitive: false }] });
        // The same push (same mutation id, same expected version) until it is acknowledged: a retry never doubles it.
        for (let attempt = 1; ; attempt++) {
          try {
            const response = await user.client.push({ expectedVersion: user.version, clientId: 'faults', mutations: [mutation] });
            if (response.result?.$case !== 'accepted') throw new Error(`push not accepted: ${JSON.stringify(response.result)}`);
            user.version = response.result.value.version;
            user.acknowledged.push(mutation.mutationId);
            break;
          } catch (error) {
            noteFailure(error);
            if (attempt >= 100 || children.some((child) => child.exited)) return;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
    });
    let lists = 0;
    const listLoad = users.map(async (user) => {
      while (loading) {
        try {
          await user.client.list();
          lists++;
        } catch (error) {
          noteFailure(error);
          if (children.some((child) => child.exited)) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });

    let terminated = 0;
    const faultsUntil = Date.now() + FAULT_SECONDS * 1000;
    while (Date.now() < faultsUntil && !children.some((child) => child.exited)) {
      const rows = await admin.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
        [appName],
      );
      terminated += rows.rows.filter((row) => row.ok).length;
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 250));
    }
    loading = false;
    await Promise.all([...pushLoad, ...listLoad]);

    for (const child of children) expect(child.exited, `${child.name} exited: ${child.stderr.filter((line) => !line.startsWith('{')).slice(0, 40).join('\n')}`).to.equal(undefined);
    expect(terminated, 'backends terminated').to.be.greaterThan(20);
    const acknowledged = users.reduce((sum, user) => sum + user.acknowledged.length, 0);
    expect(acknowledged, 'acknowledged pushes').to.be.greaterThan(20);
    expect(lists, 'List answers').to.be.greaterThan(10);
    // A cut connection is a transient fault: the clients hear UNAVAILABLE with a sentence saying a
    // retry is safe, never INTERNAL (a paged List may also end ABORTED when a push moved the vault meanwhile).
    for (const failure of failures.keys()) expect(failure).to.match(/^UNAVAILABLE: .*retry|^ABORTED: the vault changed/);

    for (const user of users) {
      const stream = await admin.query<{ version: number; mutation_id: string }>(
        `SELECT version, metadata->>'mutationId' AS mutation_id FROM ${pg.escapeIdentifier(schema)}.events WHERE stream_id = $1 ORDER BY version`,
        [`user-${user.userId}`],
      );
      expect(stream.rows.map((row) => row.version), 'the stream is gap-free').to.deep.equal(stream.rows.map((_, index) => index + 1));
      const counts = new Map<string, number>();
      for (const row of stream.rows) counts.set(row.mutation_id, (counts.get(row.mutation_id) ?? 0) + 1);
      for (const mutationId of user.acknowledged) expect(counts.get(mutationId), `mutation ${mutationId}`).to.equal(1);
      expect(stream.rows.length).to.equal(user.acknowledged.length);
    }

    // The read model catches up with every stream, through either projector.
    await until('the read model to catch up', async () => {
      const behind = await admin.query(
        `SELECT s.stream_id FROM ${pg.escapeIdentifier(schema)}.streams s
           LEFT JOIN ${pg.escapeIdentifier(schema)}.rm_user_versions v ON s.stream_id = 'user-' || v.user_id
          WHERE v.version IS DISTINCT FROM s.version`,
      );
      return behind.rows.length === 0 ? true : undefined;
    });
    for (const user of users) expect((await user.client.list()).records).to.have.length(user.acknowledged.length);

    // One line per incident, not a stack trace per failed call.
    for (const child of children) {
      const stacks = child.stderr.filter((line) => line.includes('"stack"'));
      expect(stacks, `${child.name} logged stack traces`).to.deep.equal([]);
      expect(child.stderr.length, `${child.name} log lines`).to.be.at.most(2 * terminated + 10);
    }
    for (const child of children) child.process.kill('SIGTERM');
    for (const child of children) await until(`${child.name} to stop`, () => child.exited);
    for (const child of children) expect(child.exited, child.name).to.deep.equal({ code: 0, signal: null });
  });
});
