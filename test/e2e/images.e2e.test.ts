import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import sharp from 'sharp';
import { commandToMutation, createMutation, deleteMutation } from '../../src/wire/mutations.js';
import type { KeeperClient } from '../../src/client/keeper-client.js';
import { downloadImage, uploadImage } from '../../src/client/images/image-transfer.js';
import { imageFromWire } from '../../src/wire/images.js';
import { Rendition, type UploadHeader } from '../../src/gen/keeper/v1/images.js';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { collectBlobs } from '../../src/server/blobs/blob-collector.js';
import { FileBlobStore } from '../../src/server/blobs/file-blob-store.js';
import { readAllImageStates } from '../../src/read-model/read-model.js';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function header(recordId: string, bytes: Uint8Array, overrides: Partial<UploadHeader> = {}): UploadHeader {
  return {
    imageId: randomUUID(),
    recordId,
    fileName: 'photo.jpg',
    declaredType: 'image/jpeg',
    size: bytes.length,
    sha256: sha256(bytes),
    encrypted: false,
    rendition: Rendition.RENDITION_ORIGINAL,
    ...overrides,
  };
}

async function* chunks(bytes: Uint8Array, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function rejection(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; details: string };
  }
  throw new Error('expected the call to fail');
}

/** Every file under the blob directory that holds bytes (committed blobs and unfinished uploads). */
async function blobFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

async function waitForStatus(client: KeeperClient, recordId: string, imageId: string, wanted: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const image = (await client.listImages(recordId)).find((i) => i.id === imageId);
    if (image?.status === wanted) return image;
    if (Date.now() > deadline) throw new Error(`image ${imageId} is ${image?.status ?? 'missing'}, not ${wanted}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the worker has nothing left to do for the record's images, so no event of its races the test's pushes. */
async function waitForImagesSettled(client: KeeperClient, recordId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = (await client.listImages(recordId)).filter((i) => i.status === 'processing');
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`images ${busy.map((i) => i.id).join(', ')} are still processing`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const target of databaseTargets) {
  describe(`images over gRPC (${target.name}, in-process queue)`, function () {
    this.timeout(180_000);
    let server: TestServer;
    let alice: KeeperClient;
    let bob: KeeperClient;
    let recordId: string;
    let bobRecordId: string;
    let photo: Buffer;
    let work: string;

    before(async () => {
      server = await startTestServer(target, { images: { maxBytes: 12 * 1024 * 1024 } });
      alice = await server.client();
      bob = await server.client();
      await alice.register('alice-img', 'correct horse battery');
      await bob.register('bob-img', 'correct horse battery');
      const create = createMutation({ kind: 'note', name: 'Passport', fields: [] });
      recordId = create.change?.$case === 'create' ? create.change.value.recordId : '';
      await alice.push({ expectedVersion: 0, clientId: 'test', mutations: [create] });
      const bobCreate = createMutation({ kind: 'note', name: 'Bob note', fields: [] });
      bobRecordId = bobCreate.change?.$case === 'create' ? bobCreate.change.value.recordId : '';
      await bob.push({ expectedVersion: 0, clientId: 'test', mutations: [bobCreate] });
      photo = await syntheticPhoto({ width: 4000, height: 3000, seed: 7 });
      work = await mkdtemp(join(tmpdir(), 'keeper-images-test-'));
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    it('uploads a 12-megapixel photo, makes a 120x120 cover and a compact copy of at most 1 MB, and serves all three', async () => {
      expect(photo.length).to.be.greaterThan(1_000_000);
      const file = join(work, 'big.jpg');
      await writeFile(file, photo);
      const uploaded = await uploadImage(alice, { recordId, path: file });
      expect(uploaded.duplicate).to.equal(false);
      const imageId = uploaded.image!.id;
      expect(uploaded.image!.original).to.include({ sha256: sha256(photo), type: 'image/jpeg', width: 4000, height: 3000, size: photo.length });

      const ready = imageFromWire(await waitForStatus(alice, recordId, imageId, 'ready'));
      const original = await downloadImage(alice, { image: ready, rendition: 'original', target: join(work, 'original.jpg') });
      expect(sha256(await readFile(original))).to.equal(sha256(photo));

      const cover = await readFile(await downloadImage(alice, { image: ready, rendition: 'cover', target: join(work, 'cover.jpg') }));
      const coverInfo = await sharp(cover).metadata();
      expect([coverInfo.width, coverInfo.height]).to.deep.equal([120, 120]);

      const compact = await readFile(await downloadImage(alice, { image: ready, rendition: 'compact', target: join(work, 'compact.jpg') }));
      expect(compact.length).to.be.at.most(1_000_000);
      expect(ready.compact!.size).to.equal(compact.length);
      const compactInfo = await sharp(compact).metadata();
      expect(compactInfo.width! / compactInfo.height!).to.be.closeTo(4 / 3, 0.01);

      // The read model has it too, and a client starting cold gets it with the records.
      await server.projected();
      const snapshot = await alice.list();
      expect(snapshot.images.map((i) => [i.id, i.status])).to.deep.equal([[imageId, 'ready']]);
      const rows = await readAllImageStates(server.db, (await alice.currentSession())!.userId);
      expect(rows.find((row) => row.id === imageId)).to.deep.include({ status: 'ready', cover: ready.cover, compact: ready.compact });
    });

    it('takes a retried upload of the same image id and bytes as the same image', async () => {
      const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#39c' } }).png().toBuffer();
      const h = header(recordId, png, { fileName: 'small.png', declaredType: 'image/png' });
      const first = await alice.uploadImage(h, () => chunks(png));
      const again = await alice.uploadImage(h, () => chunks(png));
      expect(first.duplicate).to.equal(false);
      expect(again.duplicate).to.equal(true);
      expect(again.image!.id).to.equal(first.image!.id);
      expect(first.image!.original!.type).to.equal('image/png');
    });

    describe('refuses bad uploads with a clear status and stores nothing', () => {
      let png: Buffer;
      let before: string[];
      beforeEach(async () => {
        png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } }).png().toBuffer();
        before = await blobFiles(server.blobDir);
      });
      afterEach(async () => {
        expect(await blobFiles(server.blobDir)).to.deep.equal(before);
      });

      it('a sha256 that does not match the bytes', async () => {
        const error = await rejection(alice.uploadImage(header(recordId, png, { sha256: 'ab'.repeat(32) }), () => chunks(png)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/do not match the sha256/);
      });

      it('fewer bytes than the header declared', async () => {
        const error = await rejection(alice.uploadImage(header(recordId, png, { size: png.length + 10 }), () => chunks(png)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/ended after \d+ of the \d+ bytes/);
      });

      it('more bytes than the header declared', async () => {
        const error = await rejection(alice.uploadImage(header(recordId, png, { size: 40 }), () => chunks(png)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/more bytes arrived than the 40/);
      });

      it('a JPEG, PNG, WebP or GIF cut short, with a sentence saying so, before the worker sees it', async () => {
        const small = sharp({ create: { width: 48, height: 32, channels: 3, background: '#c63' } });
        const cases: Array<[string, Buffer, RegExp]> = [
          ['jpeg', photo.subarray(0, Math.floor(photo.length / 2)), /^the JPEG file is cut short: it ends before its end marker$/],
          ['png', (await small.clone().png().toBuffer()).subarray(0, -12), /^the PNG file is cut short: it ends before its IEND chunk$/],
          ['webp', (await small.clone().webp().toBuffer()).subarray(0, -10), /^the WebP file is cut short/],
          ['gif', (await small.clone().gif().toBuffer()).subarray(0, -1), /^the GIF file is cut short/],
        ];
        for (const [name, cut, sentence] of cases) {
          const error = await rejection(alice.uploadImage(header(recordId, cut, { fileName: `cut.${name}` }), () => chunks(cut)));
          expect(error.code, name).to.equal(status.INVALID_ARGUMENT);
          expect(error.details, name).to.match(sentence);
        }
      });

      it('a file that is not an image, whatever type it declares', async () => {
        const text = Buffer.from('this is a plain text file pretending to be a JPEG image, nothing more');
        const error = await rejection(alice.uploadImage(header(recordId, text, { declaredType: 'image/jpeg' }), () => chunks(text)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/not an image/);
      });

      it('a decompression bomb (huge dimensions in a small file)', async () => {
        // A valid PNG header claiming 100,000 x 100,000 pixels over a few bytes of data.
        const bomb = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
        bomb.writeUInt32BE(100_000, 16);
        bomb.writeUInt32BE(100_000, 20);
        const error = await rejection(alice.uploadImage(header(recordId, bomb, { fileName: 'bomb.png' }), () => chunks(bomb)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/pixel|corrupt|cannot/i);
      });

      it('an image larger than the limit, before any byte is stored', async () => {
        const error = await rejection(alice.uploadImage(header(recordId, png, { size: 13 * 1024 * 1024 }), () => chunks(png)));
        expect(error.code).to.equal(status.RESOURCE_EXHAUSTED);
        expect(error.details).to.match(/the image is 13\.6 MB \(13,631,488 bytes\); at most 12\.6 MB \(12,582,912 bytes\) are accepted/);
      });

      it('a chunk above 64 KiB', async () => {
        const big = Buffer.concat([png, Buffer.alloc(70 * 1024)]);
        const error = await rejection(alice.uploadImage(header(recordId, big), () => chunks(big, 70 * 1024)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/larger than the 65536 allowed/);
      });

      it('a malformed header (no record id, bad hash)', async () => {
        const error = await rejection(alice.uploadImage(header('not-a-uuid', png, { sha256: 'xyz' }), () => chunks(png)));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.match(/recordId: must be a UUID/);
      });

      it("another user's record", async () => {
        const error = await rejection(alice.uploadImage(header(bobRecordId, png), () => chunks(png)));
        expect(error.code).to.equal(status.NOT_FOUND);
      });
    });

    it("never serves, lists or deletes another user's image", async () => {
      const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#f00' } }).png().toBuffer();
      const mine = await alice.uploadImage(header(recordId, png), () => chunks(png));
      const imageId = mine.image!.id;
      const download = await rejection(bob.downloadImage(imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async () => undefined));
      expect(download.code).to.equal(status.NOT_FOUND);
      expect((await rejection(bob.listImages(recordId))).code).to.equal(status.NOT_FOUND);
      expect((await rejection(bob.deleteImage(imageId))).code).to.equal(status.NOT_FOUND);
      expect((await alice.listImages(recordId)).map((i) => i.id)).to.include(imageId);
    });

    it("answers NOT_FOUND alike from DeleteImage, ListImages and Download once the image's record is deleted", async () => {
      const create = createMutation({ kind: 'note', name: 'Old ID card', fields: [] });
      const cardId = create.change?.$case === 'create' ? create.change.value.recordId : '';
      // The worker's renditions for earlier tests' uploads would otherwise race these pushes.
      await waitForImagesSettled(alice, recordId);
      const created = await alice.push({ expectedVersion: (await alice.status()).version, clientId: 'test', mutations: [create] });
      const png = await sharp({ create: { width: 12, height: 12, channels: 3, background: '#abcdef' } }).png().toBuffer();
      const imageId = (await alice.uploadImage(header(cardId, png), () => chunks(png))).image!.id;
      await waitForStatus(alice, cardId, imageId, 'ready');
      const afterUpload = (await alice.status()).version;
      expect(created.result?.$case).to.equal('accepted');
      await alice.push({ expectedVersion: afterUpload, clientId: 'test', mutations: [deleteMutation(cardId)] });

      const listed = await rejection(alice.listImages(cardId));
      const downloaded = await rejection(alice.downloadImage(imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async () => undefined));
      const deleted = await rejection(alice.deleteImage(imageId));
      expect([listed.code, downloaded.code, deleted.code]).to.deep.equal([status.NOT_FOUND, status.NOT_FOUND, status.NOT_FOUND]);
      expect(deleted.details).to.equal(`image ${imageId} does not exist`);
      // Nothing was recorded: restoring the record brings the image back with it.
      const version = (await alice.status()).version;
      expect(version).to.equal(afterUpload + 1);
      await alice.push({
        expectedVersion: version,
        clientId: 'test',
        mutations: [commandToMutation({ type: 'RestoreRecord', mutationId: randomUUID(), recordId: cardId, kind: 'note', name: 'Old ID card', fields: [], fromVersion: created.result?.$case === 'accepted' ? created.result.value.version : 0 })],
      });
      expect((await alice.listImages(cardId)).map((i) => i.id)).to.deep.equal([imageId]);
    });

    it('says so when the bytes of an image are missing from the blob store', async () => {
      const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#123456' } }).png().toBuffer();
      const uploaded = await alice.uploadImage(header(recordId, png), () => chunks(png));
      const blobs = await FileBlobStore.open(server.blobDir);
      await blobs.remove(sha256(png));
      const error = await rejection(alice.downloadImage(uploaded.image!.id, Rendition.RENDITION_ORIGINAL, () => undefined, async () => undefined));
      expect(error.code).to.equal(status.NOT_FOUND);
      expect(error.details).to.match(/original of image .* is no longer stored/);
    });

    it('deletes an image with an event, then collects its bytes once nothing refers to them', async () => {
      const png = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#0f0' } }).png().toBuffer();
      const uploaded = await alice.uploadImage(header(recordId, png), () => chunks(png));
      const imageId = uploaded.image!.id;
      await waitForStatus(alice, recordId, imageId, 'ready');
      const address = sha256(png);
      const blobs = await FileBlobStore.open(server.blobDir);
      expect(await blobs.stat(address)).to.not.equal(null);

      // Referenced: a collection with no grace at all keeps it.
      await collectBlobs(server.db, blobs, { graceMs: 0, deletedRecordRetentionMs: 0 });
      expect(await blobs.stat(address)).to.not.equal(null);

      await alice.deleteImage(imageId);
      expect((await alice.listImages(recordId)).map((i) => i.id)).to.not.include(imageId);
      const gone = await rejection(alice.downloadImage(imageId, Rendition.RENDITION_ORIGINAL, () => undefined, async () => undefined));
      expect(gone.code).to.equal(status.NOT_FOUND);

      // Within the grace period nothing goes; after it, the original and its cover do (this small
      // PNG is its own compact copy, so they are two blobs).
      const kept = await collectBlobs(server.db, blobs, { graceMs: 3600_000, deletedRecordRetentionMs: 0 });
      expect(kept.removed).to.equal(0);
      const collected = await collectBlobs(server.db, blobs, { graceMs: 0, deletedRecordRetentionMs: 0 });
      expect(collected.removed).to.equal(2);
      expect(await blobs.stat(address)).to.equal(null);
      // The big photo of the first test is still referenced and stays.
      expect(await blobs.stat(sha256(photo))).to.not.equal(null);
    });
  });
}
