import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { credentials, loadPackageDefinition, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { defaultImageParts, startServer, type RunningApp } from '../../src/composition/server-app.js';
import { TokenIssuer } from '../../src/server/auth/tokens.js';
import { createLogger } from '../../src/logging.js';
import { openPostgres } from '../../src/server/sql/pg.js';
import { migrate } from '../../src/server/sql/migrations.js';
import type { Database } from '../../src/server/sql/database.js';

type Callback<T> = (error: ServiceError | null, response: T) => void;
interface HealthClient extends Client {
  check(request: { service: string }, callback: Callback<{ status: string }>): void;
  watch(request: { service: string }): ClientReadableStream<{ status: string }>;
}
interface ReflectionClient extends Client {
  serverReflectionInfo(): import('@grpc/grpc-js').ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;
}

const healthDefinition = loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
const HealthService = (loadPackageDefinition(healthDefinition) as unknown as { grpc: { health: { v1: { Health: new (address: string, creds: unknown) => HealthClient } } } }).grpc.health.v1.Health;
const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
const reflectionDefinition = loadSync(reflectionProto, { keepCase: true, defaults: true, oneofs: true });
const ReflectionService = (loadPackageDefinition(reflectionDefinition) as unknown as {
  grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: unknown) => ReflectionClient } } };
}).grpc.reflection.v1.ServerReflection;

function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => client.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status))));
}

function failure(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: ServiceError) => error,
  );
}

/** One reflection request and its answer (the stream then ends). */
function reflect(address: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const client = new ReflectionService(address, credentials.createInsecure());
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const call = client.serverReflectionInfo();
    call.on('data', (response: Record<string, unknown>) => resolve(response));
    call.on('error', reject);
    call.write(request);
    call.end();
  }).finally(() => client.close());
}

async function pollFor(what: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if (await what()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('standard gRPC services: health and reflection', function () {
  this.timeout(120_000);
  let server: TestServer;
  let health: HealthClient;
  before(async () => {
    server = await startTestServer(pgliteTarget);
    health = new HealthService(server.address, credentials.createInsecure());
  });
  after(async () => {
    health.close();
    await server.close();
  });

  it('answers Check without a token: SERVING for the server and each Keeper service, NOT_FOUND for others', async () => {
    expect(await check(health, '')).to.equal('SERVING');
    for (const name of ['keeper.v1.AuthService', 'keeper.v1.VaultService', 'keeper.v1.ImageService']) expect(await check(health, name)).to.equal('SERVING');
    expect((await failure(check(health, 'no.such.Service'))).code).to.equal(status.NOT_FOUND);
  });

  it('lists the services and describes them through reflection, without a token', async () => {
    const listed = await reflect(server.address, { list_services: '*' });
    const names = ((listed.list_services_response as { service: { name: string }[] }).service ?? []).map((s) => s.name);
    expect(names).to.include.members(['keeper.v1.AuthService', 'keeper.v1.VaultService', 'keeper.v1.ImageService', 'grpc.health.v1.Health']);
    const described = await reflect(server.address, { file_containing_symbol: 'keeper.v1.VaultService' });
    const files = (described.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
    expect(files.length).to.be.greaterThan(0);
    expect(Buffer.concat(files).toString('latin1')).to.contain('VaultService');
  });

  it('turns reflection off when asked, and says NOT_SERVING to a watcher while draining, then ends its stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keeper-health-'));
    const db = await pgliteTarget.open();
    let app: RunningApp | undefined;
    try {
      app = await startServer(
        db,
        {
          host: '127.0.0.1',
          port: 0,
          maxMessageBytes: 4 * 1024 * 1024,
          tokenKey: await TokenIssuer.generateSecretKey(),
          auth: { bcryptCost: 10 },
          inlineProjector: false,
          reflection: false,
          images: defaultImageParts(dir),
        },
        createLogger('silent', 'test'),
      );
      expect((await failure(reflect(app.grpc.address, { list_services: '*' }))).code).to.equal(status.UNIMPLEMENTED);

      const watcher = new HealthService(app.grpc.address, credentials.createInsecure());
      const seen: string[] = [];
      const ended = new Promise<void>((resolve) => {
        const stream = watcher.watch({ service: '' });
        stream.on('data', (message: { status: string }) => seen.push(message.status));
        stream.on('end', () => resolve());
        stream.on('error', () => resolve());
      });
      expect(await pollFor(async () => seen.includes('SERVING'), 10_000)).to.equal(true);
      const stopping = app.stop();
      await ended;
      await stopping;
      app = undefined;
      watcher.close();
      expect(seen).to.deep.equal(['SERVING', 'NOT_SERVING']);
    } finally {
      await app?.stop();
      await pgliteTarget.dispose(db);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const pgUrl = process.env.KEEPER_DATABASE_URL;
if (pgUrl) {
  describe('health follows the database (real PostgreSQL)', function () {
    this.timeout(120_000);
    const role = `keeper_health_${randomBytes(4).toString('hex')}`;
    const schema = `keeper_test_${randomBytes(6).toString('hex')}`;
    let admin: pg.Client;
    let db: Database;
    let app: RunningApp;
    let dir: string;
    let health: HealthClient;

    before(async () => {
      admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`);
      const url = new URL(pgUrl);
      url.username = role;
      url.password = '';
      db = await openPostgres({ url: url.toString(), schema, maxConnections: 5 });
      await migrate(db);
      dir = await mkdtemp(join(tmpdir(), 'keeper-health-'));
      app = await startServer(
        db,
        {
          host: '127.0.0.1',
          port: 0,
          maxMessageBytes: 4 * 1024 * 1024,
          tokenKey: await TokenIssuer.generateSecretKey(),
          auth: { bcryptCost: 10 },
          inlineProjector: false,
          healthIntervalMs: 200,
          images: defaultImageParts(dir),
        },
        createLogger('silent', 'test'),
      );
      health = new HealthService(app.grpc.address, credentials.createInsecure());
    });
    after(async () => {
      health?.close();
      await admin.query(`ALTER ROLE ${role} LOGIN`).catch(() => {});
      await app?.stop();
      await db?.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    });

    it('says NOT_SERVING while the database refuses the server, and SERVING again once it is back', async () => {
      expect(await check(health, '')).to.equal('SERVING');
      // The server's role may no longer log in, and its connections are cut.
      await admin.query(`ALTER ROLE ${role} NOLOGIN`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
      expect(await pollFor(async () => (await check(health, 'keeper.v1.VaultService')) === 'NOT_SERVING', 20_000)).to.equal(true);
      await admin.query(`ALTER ROLE ${role} LOGIN`);
      expect(await pollFor(async () => (await check(health, '')) === 'SERVING', 20_000)).to.equal(true);
    });
  });
}
