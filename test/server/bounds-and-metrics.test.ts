import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { VaultHandle } from '../../src/client/core/vault-handle.js';
import { bearer, isServiceError, openClients, status } from '../../src/client/grpc-channel.js';
import { Rendition } from '../../src/gen/keeper/v1/images.js';
import { OutgoingScheduler, TooBusy } from '../../src/server/grpc/outgoing-scheduler.js';

const PASSWORD = 'correct horse battery';

describe('bounds of work in flight, and /metrics', function () {
  let server: TestServer;
  let dir: string;
  let owner: { client: KeeperClient; token: string; imageId: string; bytes: Buffer };
  const closing: { close(): void }[] = [];

  before(async () => {
    server = await startTestServer(pgliteTarget, { scheduling: { maxDownloadsPerUser: 1 }, metricsListen: '127.0.0.1:0' });
    dir = await mkdtemp(join(tmpdir(), 'keeper-bounds-'));
    const client = new KeeperClient({ server: server.address, tls: false }, new MemoryTokenStore(), 15_000, 'bounds');
    closing.push(client);
    const login = `bounds-${randomUUID().slice(0, 8)}`;
    const session = await client.register(login, PASSWORD);
    const handle = await VaultHandle.open({ client, server: server.address, home: await mkdtemp(join(dir, 'home-')), userId: session.userId, clientId: 'bounds' });
    const recordId = await handle.vault.create({ kind: 'note', name: 'with a picture', fields: [] });
    await handle.syncOnline();
    // Noise does not compress: about 6.75 MB, more than a paused client and its window take in.
    const bytes = await sharp({ create: { width: 1500, height: 1500, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png({ compressionLevel: 0 }).toBuffer();
    const path = join(dir, 'noise.png');
    await writeFile(path, bytes);
    const attached = await handle.attachImage({ recordId, path });
    owner = { client, token: session.accessToken, imageId: attached.image!.id, bytes };
  });
  after(async () => {
    for (const item of closing) item.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a download past the per-user bound with RESOURCE_EXHAUSTED and a retry hint', async function () {
    const grpc = openClients({ server: server.address, tls: false, purpose: 'bulk' });
    closing.push(grpc);
    const held = grpc.images.downloadImage({ imageId: owner.imageId, rendition: Rendition.RENDITION_ORIGINAL, offset: 0 }, bearer(owner.token));
    held.on('error', () => undefined);
    held.pause();
    await new Promise((resolve) => held.once('readable', resolve));
    expect(server.app.grpc.scheduler.snapshot().downloads).to.equal(1);
    const second = grpc.images.downloadImage({ imageId: owner.imageId, rendition: Rendition.RENDITION_ORIGINAL, offset: 0 }, bearer(owner.token));
    const refused = await new Promise<unknown>((resolve) => {
      second.on('data', () => undefined);
      second.on('error', resolve);
      second.on('end', () => resolve(undefined));
    });
    held.cancel();
    if (!isServiceError(refused)) throw new Error('the second download was not refused');
    expect(refused.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(refused.details).to.equal('you have 1 image downloads under way already; retry when one is done');
    expect(Number(refused.metadata.get('retry-after-ms')[0])).to.be.greaterThan(0);
  });

  it('lets the client core wait out the hint: two downloads of one user past a bound of one both arrive whole', async function () {
    const sha = createHash('sha256').update(owner.bytes).digest('hex');
    const one = async () => {
      const hash = createHash('sha256');
      await owner.client.downloadImage(owner.imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async (chunk) => void hash.update(chunk));
      return hash.digest('hex');
    };
    expect(await Promise.all([one(), one()])).to.deep.equal([sha, sha]);
    expect(server.app.grpc.scheduler.snapshot().refused.image).to.be.greaterThan(1);
  });

  it('refuses a data request past its bound (TooBusy becomes RESOURCE_EXHAUSTED with a hint)', function () {
    const scheduler = new OutgoingScheduler({ maxDataRequests: 2 });
    const ends = [scheduler.beginData(), scheduler.beginData()];
    expect(() => scheduler.beginData()).to.throw(TooBusy, 'too many requests at once');
    ends[0]!();
    ends[0]!();
    expect(scheduler.snapshot().dataInFlight).to.equal(1);
    scheduler.beginData();
    expect(scheduler.snapshot().refused.data).to.equal(1);
  });

  it('serves counters of calls, queues and bytes out on the metrics port, and nothing else there', async function () {
    await owner.client.status();
    const response = await fetch(`http://${server.app.metricsAddress}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await response.text();
    expect(text).to.match(/^keeper_grpc_calls_total\{method="\/keeper\.v1\.VaultService\/Status",code="OK"\} [1-9]/m);
    expect(text).to.match(/^keeper_grpc_calls_total\{method="\/keeper\.v1\.ImageService\/DownloadImage",code="RESOURCE_EXHAUSTED"\} [1-9]/m);
    const imageBytes = Number(/^keeper_bytes_out_total\{priority="image"\} (\d+)/m.exec(text)?.[1]);
    expect(imageBytes).to.be.at.least(2 * owner.bytes.length);
    expect(Number(/^keeper_bytes_out_total\{priority="data"\} (\d+)/m.exec(text)?.[1])).to.be.greaterThan(0);
    for (const name of ['keeper_data_requests_in_flight', 'keeper_image_chunks_queued', 'keeper_image_chunks_writing', 'keeper_image_streams_paused', 'keeper_image_stream_pauses_total', 'keeper_image_downloads_in_flight', 'keeper_refused_downloads_total']) {
      expect(text).to.match(new RegExp(`^${name} \\d+`, 'm'));
    }
    // Labels are method paths and status names: no login, token or image id.
    expect(text).to.not.contain(owner.token.slice(-16));
    expect(text).to.not.contain(owner.imageId);
    const other = await fetch(`http://${server.app.metricsAddress}/`);
    expect(other.status).to.equal(404);
    expect(other.headers.get('content-type')).to.equal('application/problem+json');
  });
});
