import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import sharp from 'sharp';
import { createMutation } from '../../src/wire/mutations.js';
import type { KeeperClient } from '../../src/client/keeper-client.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { NatsJobQueue } from '../../src/imaging/queue/nats-queue.js';
import { natsNames, type NatsNames } from '../../src/imaging/queue/nats-topology.js';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startImagingWorker } from '../../src/imaging/worker.js';
import { FileBlobStore } from '../../src/server/blobs/file-blob-store.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { imagingPorts } from '../../src/server/images/image-pipeline.js';
import { VaultService } from '../../src/server/vault/vault-service.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { gate, testLogger, waitFor } from '../imaging/support/jobs.js';
import { natsUrl, OwnNatsServer } from '../imaging/support/nats.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function* chunks(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
}

async function newRecord(client: KeeperClient, version: number): Promise<string> {
  const create = createMutation({ kind: 'note', name: `note ${randomUUID()}`, fields: [] });
  await client.push({ expectedVersion: version, clientId: 'test', mutations: [create] });
  return create.change?.$case === 'create' ? create.change.value.recordId : '';
}

async function upload(client: KeeperClient, recordId: string, seed: string): Promise<string> {
  const png = await sharp({ create: { width: 200, height: 150, channels: 3, background: `#${createHash('md5').update(seed).digest('hex').slice(0, 6)}` } })
    .png()
    .toBuffer();
  const response = await client.uploadImage(
    { imageId: randomUUID(), recordId, fileName: `${seed}.png`, declaredType: 'image/png', size: png.length, sha256: sha256(png), encrypted: false, rendition: Rendition.RENDITION_ORIGINAL },
    () => chunks(png),
  );
  return response.image!.id;
}

async function statusOf(client: KeeperClient, recordId: string, imageId: string): Promise<string | undefined> {
  return (await client.listImages(recordId)).find((image) => image.id === imageId)?.status;
}

const QUEUE_SETTINGS = { ackWaitMs: 1_500, backoffMs: [200], maxDeliveries: 5 };
const queueOptions = { fetchExpiresMs: 1_000, retryDelayMs: 200, reconnectWaitMs: 200, connectTimeoutMs: 2_000, logger: testLogger() };

async function deleteStreams(url: string, names: NatsNames): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [names.stream, names.deadLetterStream]) await jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

if (natsUrl) {
  const url = natsUrl;
  describe('images through NATS JetStream (outbox relay, durable consumer)', function () {
    this.timeout(120_000);

    it('accepts uploads while NATS is down and makes their renditions once it is back', async () => {
      const nats = await OwnNatsServer.start();
      const names = natsNames(`KEEPER_E2E_${randomBytes(4).toString('hex')}`);
      const queue = new NatsJobQueue({ url: nats.url, names, settings: QUEUE_SETTINGS, ...queueOptions });
      const server = await startTestServer(pgliteTarget, { images: { queue } });
      try {
        const client = await server.client();
        await client.register('nats-down', 'correct horse battery');
        const recordId = await newRecord(client, 0);
        await nats.pause();
        const imageId = await upload(client, recordId, 'while-down');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(await statusOf(client, recordId, imageId)).to.equal('processing');
        await nats.resume();
        await waitFor('renditions after NATS came back', async () => (await statusOf(client, recordId, imageId)) === 'ready', 60_000);
      } finally {
        await server.close();
        await nats.dispose();
      }
    });

    it('redelivers the job of a worker that died mid-job, and records the renditions once', async () => {
      const names = natsNames(`KEEPER_E2E_${randomBytes(4).toString('hex')}`);
      const relayQueue = new NatsJobQueue({ url, names, settings: QUEUE_SETTINGS, ...queueOptions });
      // The server only relays jobs; the workers below are the imaging processes.
      const server: TestServer = await startTestServer(pgliteTarget, { images: { queue: relayQueue, inlineWorker: false } });
      const workerQueues: NatsJobQueue[] = [];
      try {
        const client = await server.client();
        await client.register('worker-dies', 'correct horse battery');
        const userId = (await client.currentSession())!.userId;
        const recordId = await newRecord(client, 0);
        const vault = new VaultService(server.db, new SqlEventStore(server.db));
        const blobs = await FileBlobStore.open(server.blobDir);

        // The first worker takes the job and hangs in the middle of it (its renditions made,
        // nothing recorded), then its process is gone: its queue connection closes without an ack.
        const hang = gate();
        let started = 0;
        const first = new NatsJobQueue({ url, names, settings: QUEUE_SETTINGS, ...queueOptions });
        workerQueues.push(first);
        const ports = imagingPorts(vault, blobs);
        startImagingWorker(first, { ...ports, renditionsReady: async () => { started++; await hang.promise; } }, { concurrency: 1, logger: testLogger() });
        const imageId = await upload(client, recordId, 'dies');
        await waitFor('the first worker to be mid-job', () => started === 1, 30_000);
        await first.close();

        const second = new NatsJobQueue({ url, names, settings: QUEUE_SETTINGS, ...queueOptions });
        workerQueues.push(second);
        const consumer = startImagingWorker(second, ports, { concurrency: 1, logger: testLogger() });
        await waitFor('the redelivered job to finish', async () => (await statusOf(client, recordId, imageId)) === 'ready', 60_000);
        hang.open();
        await consumer.stop();

        const events = await new SqlEventStore(server.db).readStream(streamIdForUser(userId), 1, 100);
        expect(events.filter((event) => event.type === 'ImageRenditionsReady')).to.have.length(1);
        expect(started).to.equal(1);
      } finally {
        for (const queue of workerQueues) await queue.close().catch(() => undefined);
        await server.close();
        await deleteStreams(url, names);
      }
    });
  });
}
