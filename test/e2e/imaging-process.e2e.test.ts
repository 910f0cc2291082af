import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { expect } from 'chai';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createMutation } from '../../src/wire/mutations.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { NatsJobQueue } from '../../src/imaging/queue/nats-queue.js';
import { natsNames } from '../../src/imaging/queue/nats-topology.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { migrate } from '../../src/server/sql/migrations.js';
import { openPostgres } from '../../src/server/sql/pg.js';
import { urlWithSchema } from '../audit/support.js';
import { testLogger, waitFor } from '../imaging/support/jobs.js';
import { natsUrl } from '../imaging/support/nats.js';
import { KEEPER } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';

const pgUrl = process.env.KEEPER_DATABASE_URL;

/** `keeper imaging` as its own process, on the test's schema, blob directory and NATS names. */
function imagingProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [KEEPER, 'imaging'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function* chunksOf(bytes: Buffer): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
}

/**
 * A test server on a PostgreSQL schema and NATS stream names of its own, whose in-process queue
 * uses those names, and the environment a `keeper` process needs to join it.
 */
async function startWorld(url: string, serverOptions: (queue: NatsJobQueue) => Parameters<typeof startTestServer>[1]) {
  const schema = `keeper_test_${randomBytes(6).toString('hex')}`;
  const prefix = `KEEPER_E2E_${randomBytes(4).toString('hex')}`;
  const db = await openPostgres({ url: pgUrl!, schema, maxConnections: 20 });
  await migrate(db);
  const queue = new NatsJobQueue({ url, names: natsNames(prefix), settings: { ackWaitMs: 2_000, backoffMs: [200] }, logger: testLogger() });
  const server = await startTestServer({ name: 'PostgreSQL', open: async () => db, dispose: async (d) => d.close() }, serverOptions(queue));
  const env = { KEEPER_DATABASE_URL: urlWithSchema(pgUrl!, schema), KEEPER_NATS_URL: url, KEEPER_NATS_PREFIX: prefix };
  return {
    server,
    prefix,
    env,
    async dispose() {
      await server.close();
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      for (const stream of [`${prefix}_JOBS`, `${prefix}_JOBS_DEAD`]) await jsm.streams.delete(stream).catch(() => false);
      await nc.close();
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await admin.end();
    },
  };
}

if (pgUrl && natsUrl) {
  const url = natsUrl;
  describe('keeper imaging as its own process (PostgreSQL, NATS JetStream)', function () {
    this.timeout(180_000);
    let world: Awaited<ReturnType<typeof startWorld>>;
    let server: TestServer;
    let prefix: string;
    let env: Record<string, string>;
    const children: ChildProcess[] = [];

    before(async () => {
      // The server only relays jobs: the imaging processes below make the renditions.
      world = await startWorld(url, (queue) => ({ images: { queue, inlineWorker: false } }));
      ({ server, prefix } = world);
      env = { ...world.env, KEEPER_BLOB_DIR: server.blobDir, KEEPER_IMAGING_ACK_WAIT: '2' };
    });
    after(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await world.dispose();
    });

    it('finishes, once, the job of a worker process killed in the middle of it', async () => {
      const client = await server.client();
      await client.register('imaging-proc', 'correct horse battery');
      const userId = (await client.currentSession())!.userId;
      const create = createMutation({ kind: 'note', name: 'big scans', fields: [] });
      await client.push({ expectedVersion: 0, clientId: 'test', mutations: [create] });
      const recordId = create.change?.$case === 'create' ? create.change.value.recordId : '';
      const status = async (imageId: string) => (await client.listImages(recordId)).find((image) => image.id === imageId)?.status;

      // A 35-megapixel photo takes the worker a few hundred milliseconds: long enough to kill it mid-job.
      const photo = await syntheticPhoto({ width: 7000, height: 5000, seed: 5 });
      const first = imagingProcess(env);
      children.push(first);
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      try {
        // The worker is up once its consumer exists; then the upload's job goes to it.
        await waitFor('the first worker to be consuming', async () => (await jsm.consumers.info(`${prefix}_JOBS`, `${prefix}-imaging`).catch(() => undefined)) !== undefined, 30_000);
        const response = await client.uploadImage(
          {
            imageId: randomUUID(),
            recordId,
            fileName: 'scan.jpg',
            declaredType: 'image/jpeg',
            size: photo.length,
            sha256: createHash('sha256').update(photo).digest('hex'),
            encrypted: false,
            rendition: Rendition.RENDITION_ORIGINAL,
          },
          () => chunksOf(photo),
        );
        const imageId = response.image!.id;
        await waitFor('the job to be in the first worker', async () => (await jsm.consumers.info(`${prefix}_JOBS`, `${prefix}-imaging`)).num_ack_pending === 1, 30_000);
        first.kill('SIGKILL');
        await once(first, 'exit');
        expect(await status(imageId), 'the kill came before the renditions were recorded').to.equal('processing');

        const second = imagingProcess(env);
        children.push(second);
        await waitFor('the redelivered job to be finished by the second worker', async () => (await status(imageId)) === 'ready', 60_000);
        const events = await new SqlEventStore(server.db).readStream(streamIdForUser(userId), 1, 100);
        expect(events.filter((event) => event.type === 'ImageRenditionsReady')).to.have.length(1);

        // Asked to stop, the worker finishes cleanly.
        second.kill('SIGTERM');
        const [code] = (await once(second, 'exit')) as [number | null];
        expect(code).to.equal(0);
      } finally {
        await nc.close();
      }
    });

    it('refuses to start without NATS, in one sentence', async () => {
      const child = spawn(process.execPath, [KEEPER, 'imaging'], { env: { PATH: process.env.PATH ?? '', KEEPER_DATABASE_URL: env.KEEPER_DATABASE_URL! }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk) => (stderr += chunk));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).to.equal(2);
      expect(stderr.trim()).to.match(/^keeper: invalid configuration: .*takes its jobs from NATS: set --nats-url \/ KEEPER_NATS_URL$/);
    });
  });

  describe('keeper projector as its own process relays image jobs (PostgreSQL, NATS JetStream)', function () {
    this.timeout(180_000);
    let world: Awaited<ReturnType<typeof startWorld>>;
    let projector: ChildProcess | undefined;

    before(async () => {
      // The server neither projects nor relays: the worker in it only takes jobs from NATS.
      world = await startWorld(url, (queue) => ({ inlineProjector: false, images: { queue } }));
    });
    after(async () => {
      if (projector && projector.exitCode === null) projector.kill('SIGKILL');
      await world.dispose();
    });

    it('projects the read model and queues the resize job of an upload, answers its health endpoint, then stops cleanly', async () => {
      const health = `127.0.0.1:${await freePort()}`;
      projector = spawn(process.execPath, [KEEPER, 'projector'], {
        env: { PATH: process.env.PATH ?? '', ...world.env, KEEPER_HEALTH_LISTEN: health },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const client = await world.server.client();
      await client.register('projector-proc', 'correct horse battery');
      const create = createMutation({ kind: 'note', name: 'receipts', fields: [] });
      await client.push({ expectedVersion: 0, clientId: 'test', mutations: [create] });
      const recordId = create.change?.$case === 'create' ? create.change.value.recordId : '';
      const photo = await syntheticPhoto({ width: 640, height: 480, seed: 9 });
      const response = await client.uploadImage(
        {
          imageId: randomUUID(),
          recordId,
          fileName: 'receipt.jpg',
          declaredType: 'image/jpeg',
          size: photo.length,
          sha256: createHash('sha256').update(photo).digest('hex'),
          encrypted: false,
          rendition: Rendition.RENDITION_ORIGINAL,
        },
        () => chunksOf(photo),
      );
      const imageId = response.image!.id;
      // Renditions mean the projector process published the job; the snapshot means it projected.
      await waitFor('the image to be made and projected', async () => {
        const snapshot = await client.list();
        return snapshot.images.some((image) => image.id === imageId && image.status === 'ready');
      }, 60_000);
      // What the container's health check asks: GET /healthz, 200 while its database answers.
      const answer = await fetch(`http://${health}/healthz`);
      expect(answer.status).to.equal(200);
      expect(await answer.json()).to.deep.equal({ status: 'serving' });
      projector.kill('SIGTERM');
      const [code] = (await once(projector, 'exit')) as [number | null];
      expect(code).to.equal(0);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
