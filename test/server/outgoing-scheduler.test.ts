import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { databaseTargets } from '../support/databases.js';
import { OutgoingScheduler, LARGE_IMAGE_CHUNK_BYTES, SMALL_IMAGE_CHUNK_BYTES } from '../../src/server/grpc/outgoing-scheduler.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startDownloadLoad } from '../support/download-load.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore, type StoredSession } from '../../src/client/token-store.js';
import { VaultHandle } from '../../src/client/core/vault-handle.js';
import { bearer, openClients } from '../../src/client/grpc-channel.js';
import { Rendition, type DownloadHeader } from '../../src/gen/keeper/v1/images.js';
import { createMutation } from '../../src/wire/mutations.js';

// These tests are about pausing, sharing and resuming: downloads keep the chunk size they have
// while data requests come and go (a lone quiet download's larger chunks are tested apart).
const CHUNK = SMALL_IMAGE_CHUNK_BYTES;

/** A PNG of noise (it does not compress): about 3 bytes a pixel. */
async function noisyPicture(path: string, side: number): Promise<Buffer> {
  const bytes = await sharp({ create: { width: side, height: side, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png({ compressionLevel: 0 }).toBuffer();
  await writeFile(path, bytes);
  return bytes;
}

for (const target of databaseTargets) {
  describe(`the outgoing scheduler: data before images (${target.name})`, function () {
    let server: TestServer;
    let dir: string;
    const closing: { close(): void }[] = [];

    before(async () => {
      // Images wait for data as long as it takes here (1 s at a stretch by default), so a held
      // download is seen held however slow the machine is.
      server = await startTestServer(target, { scheduling: { maxPauseMs: 60_000, quietMs: 3_600_000 } });
      dir = await mkdtemp(join(tmpdir(), 'keeper-scheduler-'));
    });
    after(async () => {
      for (const item of closing) item.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function userWithPicture(address: string, side: number): Promise<{ client: KeeperClient; session: StoredSession; token: string; imageId: string; bytes: Buffer }> {
      const client = new KeeperClient({ server: address, tls: false }, new MemoryTokenStore(), 15_000, 'scheduler');
      closing.push(client);
      const session = await client.register(`sched-${randomUUID().slice(0, 8)}`, 'correct horse battery');
      const handle = await VaultHandle.open({ client, server: address, home: await mkdtemp(join(dir, 'home-')), userId: session.userId, clientId: 'scheduler' });
      const recordId = await handle.vault.create({ kind: 'note', name: 'with a picture', fields: [] });
      await handle.syncOnline();
      const path = join(dir, `${randomUUID()}.png`);
      const bytes = await noisyPicture(path, side);
      const attached = await handle.attachImage({ recordId, path });
      return { client, session, token: session.accessToken, imageId: attached.image!.id, bytes };
    }

    async function download(
      client: KeeperClient,
      imageId: string,
      onChunk: (received: number) => Promise<void> = async () => {},
      onBytes: (bytes: number) => void = () => {},
    ): Promise<{ header: DownloadHeader; sha256: string; received: number }> {
      let header: DownloadHeader | undefined;
      const hash = createHash('sha256');
      let received = 0;
      await client.downloadImage(
        imageId,
        Rendition.RENDITION_ORIGINAL,
        (h) => (header = h),
        async (chunk) => {
          hash.update(chunk);
          received += chunk.length;
          onBytes(chunk.length);
          await onChunk(received);
        },
      );
      return { header: header!, sha256: hash.digest('hex'), received };
    }

    it('holds an image stream while a data request is answered, and resumes it with its bytes intact', async function () {
      const scheduler = server.app.grpc.scheduler;
      const owner = await userWithPicture(server.address, 700);
      // Another user's Pull that stays in flight: its vault is larger than the client's HTTP/2
      // window and the client does not read until told to.
      const reader = new KeeperClient({ server: server.address, tls: false }, new MemoryTokenStore(), 15_000, 'reader');
      closing.push(reader);
      const session = await reader.register(`reader-${randomUUID().slice(0, 8)}`, 'correct horse battery');
      // 60 records of 200 KB, each a message of its own: more than the client's buffer of 16
      // messages and its 4 MiB window together.
      for (let i = 0; i < 6; i++) {
        const mutations = Array.from({ length: 10 }, (_, r) =>
          createMutation({ kind: 'note', name: `large ${i}.${r}`, fields: Array.from({ length: 4 }, (_, f) => ({ name: `part ${f}`, value: randomBytes(37_500).toString('base64'), sensitive: false })) }),
        );
        await reader.push({ expectedVersion: i * 10, clientId: 'reader', mutations });
      }
      const grpc = openClients({ server: server.address, tls: false });
      closing.push(grpc);
      const pull = grpc.vault.pull({ sinceVersion: 0, pageBytes: 1 }, bearer(session.accessToken));
      pull.pause();
      let pulled = 0;
      const pullDone = new Promise<void>((resolve, reject) => {
        pull.on('data', (message: { events: unknown[] }) => (pulled += message.events.length));
        pull.on('end', resolve);
        pull.on('error', reject);
      });
      for (let i = 0; i < 50 && scheduler.snapshot().dataInFlight === 0; i++) await sleep(20);
      expect(scheduler.snapshot().dataInFlight, 'the held Pull').to.equal(1);

      // The image is held while a data request is in flight. The Pull above is counted, but how
      // long the client's buffers keep it open depends on the machine; the hold itself is made
      // to last as long as the checks need, as one more data request the scheduler is told of.
      const endData = scheduler.beginData();
      const before = scheduler.snapshot();
      const downloading = download(owner.client, owner.imageId);
      for (let i = 0; i < 300 && scheduler.snapshot().pausedImageStreams === 0; i++) await sleep(50);
      await sleep(300);
      const held = scheduler.snapshot();
      expect(held.pausedImageStreams, `paused downloads: ${JSON.stringify(held)}`).to.equal(1);
      expect(held.bytesOut.image - before.bytesOut.image, 'image bytes sent while held').to.be.at.most(CHUNK);

      pull.resume();
      await pullDone;
      expect(pulled).to.equal(60);
      endData();
      const got = await downloading;
      expect(got.received).to.equal(owner.bytes.length);
      expect(got.sha256).to.equal(createHash('sha256').update(owner.bytes).digest('hex')).and.to.equal(got.header.sha256);
      const after = scheduler.snapshot();
      expect(after.pausedImageStreams).to.equal(0);
      expect(after.pauses).to.be.greaterThan(before.pauses);
      expect(after.bytesOut.image - before.bytesOut.image).to.equal(owner.bytes.length);
    });

    it('keeps a data request near its idle latency while image downloads saturate the server', async function () {
      const owner = await userWithPicture(server.address, 1450);
      const reader = new KeeperClient({ server: server.address, tls: false }, new MemoryTokenStore(), 15_000, 'reader');
      closing.push(reader);
      await reader.register(`reader-${randomUUID().slice(0, 8)}`, 'correct horse battery');
      const mutations = Array.from({ length: 50 }, (_, r) => createMutation({ kind: 'login', name: `site ${r}`, fields: [{ name: 'user', value: `someone-${r}`, sensitive: false }] }));
      await reader.push({ expectedVersion: 0, clientId: 'reader', mutations });
      /** The median latency of a stream of Pulls (a first load) and Lists of another user. */
      const medianOf = async (count: number): Promise<number> => {
        const latencies: number[] = [];
        for (let i = 0; i < count; i++) {
          const started = performance.now();
          if (i % 2 === 0) await reader.pull(0, () => undefined);
          else await reader.list();
          latencies.push(performance.now() - started);
          await sleep(5);
        }
        return latencies.sort((a, b) => a - b)[Math.floor(count / 2)]!;
      };
      await medianOf(20);
      const idleBefore = await medianOf(60);

      // 8 downloads (the bound for one user) of a 6 MB picture from another process, as from
      // other machines.
      const scheduler = server.app.grpc.scheduler;
      const load = await startDownloadLoad(server.address, owner.session, owner.imageId, owner.bytes.length, 8);
      await load.flowing(4 * 1024 * 1024);
      const before = scheduler.snapshot();
      const loaded = await medianOf(60);
      const after = scheduler.snapshot();
      const imageBytes = after.bytesOut.image - before.bytesOut.image;
      await load.stop();
      const idleAfter = await medianOf(60);

      const idle = (idleBefore + idleAfter) / 2;
      expect(imageBytes, 'image bytes sent while the data requests were measured').to.be.greaterThan(16 * 1024 * 1024);
      // No image chunk left while one of those requests was being answered (images are held for
      // up to a minute here)...
      expect(after.imageBytesDuringData - before.imageBytesDuringData, 'image bytes sent during data requests').to.equal(0);
      // ...and the latency, asserted loosely: on an idle machine the median is about 1.3x the
      // idle one, 1.8-3x with image chunks written while data is answered; on a loaded 2-core
      // machine both spread from 1x to 3x, so only a gross regression (data waiting behind the
      // image streams) is caught here. The idle figure is taken on both sides of the load, so a
      // machine getting busier or quieter meanwhile counts less.
      expect(loaded, `median data latency under image load (idle ${idleBefore.toFixed(1)} / ${idleAfter.toFixed(1)} ms)`).to.be.at.most(3 * idle + 10);
    });

    it("shares image chunks between users: one user's 25 MB of downloads does not hold up another's small one", async function () {
      const large = await userWithPicture(server.address, 1450);
      const small = await userWithPicture(server.address, 1000);
      // One user downloads a picture of about 6 MB four times at once; once those stream, another
      // user downloads one of about 3 MB. Both ride one connection, so the large downloads' bytes
      // already in the socket buffers when the small one starts arrive first and count against it:
      // against a 1 MB picture that backlog alone once made the share 2.6 on a busy machine (1.2
      // on a quiet one); against 3 MB it weighs a third as much.
      let largeReceived = 0;
      const largeDownloads = Array.from({ length: 4 }, () => download(large.client, large.imageId, async () => {}, (n) => (largeReceived += n)));
      for (let i = 0; i < 500 && largeReceived < 2 * CHUNK * 4; i++) await sleep(2);
      // Counted from the small download's first chunk on: chunks of the large ones granted before
      // it started are still arriving at its start.
      let largeAtFirst: number | undefined;
      let smallReceived = 0;
      const got = await download(small.client, small.imageId, async () => {}, (n) => {
        if (largeAtFirst === undefined) largeAtFirst = largeReceived;
        else smallReceived += n;
      });
      const largeWhileSmall = largeReceived - largeAtFirst!;

      expect(got.received).to.equal(small.bytes.length);
      expect(got.sha256).to.equal(createHash('sha256').update(small.bytes).digest('hex'));
      // The small download did not wait for the large ones to end...
      expect(largeReceived, 'bytes of the large downloads when the small one ended').to.be.below(4 * large.bytes.length - 4 * CHUNK);
      // ...and while both users were downloading, each got about half: a share per download
      // would have given the first user four times the second's, first come first served all.
      const share = largeWhileSmall / smallReceived;
      expect(share, `bytes to the user of the large downloads for each byte to the other (${largeWhileSmall} / ${smallReceived})`).to.be.within(0.4, 2.5);
      for (const result of await Promise.all(largeDownloads)) expect(result.received).to.equal(large.bytes.length);
    });

    it("bounds the image chunks written at once, and readers that stop reading do not hold up another user's download", async function () {
      // Six users each download a picture of about 6 MB and stop reading: on a connection of its
      // own (through a proxy) whose 4 MiB window they fill, so the server's writes of their
      // chunks wait. A round deals a chunk to each of the six; no more than 4 are written at once.
      const stalled = await Promise.all(Array.from({ length: 6 }, () => userWithPicture(server.address, 1450)));
      const other = await userWithPicture(server.address, 400);
      const scheduler = server.app.grpc.scheduler;
      let mostWriting = 0;
      const sampler = setInterval(() => (mostWriting = Math.max(mostWriting, scheduler.snapshot().writingChunks)), 1);
      const proxy = await startTcpProxy(server.address);
      try {
        const grpc = openClients({ server: proxy.address, tls: false, purpose: 'bulk' });
        closing.push(grpc);
        const streams = stalled.map((user) => {
          const stream = grpc.images.downloadImage({ imageId: user.imageId, rendition: Rendition.RENDITION_ORIGINAL, offset: 0 }, bearer(user.token));
          let received = 0;
          const done = new Promise<number>((resolve, reject) => {
            stream.on('data', (message: { part?: { $case: string; value: Uint8Array } }) => {
              if (message.part?.$case === 'chunk') received += message.part.value.length;
            });
            stream.on('end', () => resolve(received));
            stream.on('error', reject);
          });
          return { stream, done, size: user.bytes.length, received: () => received };
        });
        const total = streams.reduce((sum, { size }) => sum + size, 0);
        const before = scheduler.snapshot().bytesOut.image;
        for (let i = 0; i < 500 && scheduler.snapshot().bytesOut.image - before < 1024 * 1024; i++) await sleep(10);
        for (const { stream } of streams) stream.pause();
        // Until the window is full and nothing more goes.
        let sent = -1;
        for (let i = 0; i < 100 && scheduler.snapshot().bytesOut.image !== sent; i++) {
          sent = scheduler.snapshot().bytesOut.image;
          await sleep(100);
        }
        expect(sent - before, 'bytes sent to the readers that stopped').to.be.below(total);
        expect(mostWriting, 'image chunks being written at once').to.equal(4);

        // Another user's download goes through, at once, while those writes still wait.
        const started = performance.now();
        const got = await download(other.client, other.imageId);
        expect(got.received).to.equal(other.bytes.length);
        expect(got.sha256).to.equal(createHash('sha256').update(other.bytes).digest('hex'));
        expect(performance.now() - started, 'ms for the other download').to.be.below(10_000);
        expect(streams.map(({ received }) => received()).reduce((a, b) => a + b), 'bytes the stopped readers took').to.be.below(total);

        // The stopped readers read again: every byte of theirs arrives.
        for (const { stream } of streams) stream.resume();
        const received = await Promise.all(streams.map(({ done }) => done));
        expect(received).to.deep.equal(streams.map(({ size }) => size));
        expect(mostWriting, 'image chunks being written at once').to.equal(4);
      } finally {
        clearInterval(sampler);
        await proxy.close();
      }
    });

    it('continues a download cut halfway from its offset instead of starting over', async function () {
      const proxy = await startTcpProxy(server.address);
      try {
        // About 12 MB: more than the client's 4 MiB window and the server's stream buffer (16
        // chunks) past the cut together, so the server cannot have sent it all when it comes.
        const owner = await userWithPicture(proxy.address, 2000);
        const scheduler = server.app.grpc.scheduler;
        const before = scheduler.snapshot().bytesOut.image;
        let cutAt = 0;
        let handed = 0;
        const got = await download(owner.client, owner.imageId, async (received) => {
          // A slow disk (1 ms per 32 KiB, whatever the chunk size): the server is well ahead
          // when the connection goes.
          await sleep(Math.ceil((received - handed) / (32 * 1024)));
          handed = received;
          if (!cutAt && received > owner.bytes.length / 6) {
            cutAt = received;
            proxy.cut();
            proxy.mend();
          }
        });
        expect(cutAt).to.be.greaterThan(0);
        // Every byte arrived once: a download started over would have handed the first part twice.
        expect(got.received).to.equal(owner.bytes.length);
        expect(got.sha256).to.equal(createHash('sha256').update(owner.bytes).digest('hex'));
        // The second request asked for the rest only.
        const sent = scheduler.snapshot().bytesOut.image - before;
        expect(sent).to.be.at.most(2 * owner.bytes.length - cutAt);
        expect(sent).to.be.greaterThan(owner.bytes.length);
      } finally {
        await proxy.close();
      }
    });

    it('refuses an offset past the end with OUT_OF_RANGE and a sentence', async function () {
      const owner = await userWithPicture(server.address, 64);
      const grpc = openClients({ server: server.address, tls: false, purpose: 'bulk' });
      closing.push(grpc);
      const stream = grpc.images.downloadImage({ imageId: owner.imageId, rendition: Rendition.RENDITION_ORIGINAL, offset: owner.bytes.length + 1 }, bearer(owner.token));
      const error = await new Promise<{ code: number; details: string }>((resolve) => {
        stream.on('data', () => undefined);
        stream.on('error', resolve);
      });
      expect(error.code).to.equal(11);
      expect(error.details).to.match(/offset \d+ is past the end of the original \(\d+ bytes\)/);
    });
  });
}

describe('the size of image chunks', function () {
  it('is large for a lone download with no data request for a while, and small otherwise', async () => {
    const scheduler = new OutgoingScheduler({ quietMs: 50 });
    const endDownload = scheduler.beginDownload('ada');
    await sleep(60);
    expect(scheduler.imageChunkBytes()).to.equal(LARGE_IMAGE_CHUNK_BYTES);
    // A data request: small at once, and for a while after it is answered.
    const endData = scheduler.beginData();
    expect(scheduler.imageChunkBytes()).to.equal(SMALL_IMAGE_CHUNK_BYTES);
    endData();
    expect(scheduler.imageChunkBytes()).to.equal(SMALL_IMAGE_CHUNK_BYTES);
    await sleep(60);
    expect(scheduler.imageChunkBytes()).to.equal(LARGE_IMAGE_CHUNK_BYTES);
    // A second download: turns are counted in chunks, so chunks are equal and small.
    const endOther = scheduler.beginDownload('bob');
    expect(scheduler.imageChunkBytes()).to.equal(SMALL_IMAGE_CHUNK_BYTES);
    endOther();
    expect(scheduler.imageChunkBytes()).to.equal(LARGE_IMAGE_CHUNK_BYTES);
    endDownload();
  });
});
