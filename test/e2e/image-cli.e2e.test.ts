import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('keeper image commands against a running server', function () {
  this.timeout(180_000);
  let server: TestServer;
  let home: string;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    home = await mkdtemp(join(tmpdir(), 'keeper-image-cli-'));
    work = await mkdtemp(join(tmpdir(), 'keeper-image-files-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('adds, lists, downloads (the link kept across runs and syncs) and removes images, in the clear and sealed', async () => {
    expect((await keeper(['register', '--login', 'imogen'], env, 'correct horse battery\n')).code).to.equal(0);
    const added = await keeper(['add', 'Passport', '--kind', 'note', '--field', 'number=X123'], env);
    const recordId = /added ([0-9a-f-]{36})/.exec(added.stdout)![1]!;
    const photo = await syntheticPhoto({ width: 1600, height: 1200, seed: 3 });
    const file = join(work, 'passport scan.jpg');
    await writeFile(file, photo);

    const attached = await keeper(['image', 'add', 'Passport', file], env);
    expect(attached.code, attached.stderr).to.equal(0);
    const imageId = /attached image ([0-9a-f-]{36}) \(passport scan\.jpg/.exec(attached.stdout)![1]!;

    const listed = await until('the renditions', async () => {
      const run = await keeper(['image', 'ls', 'Passport', '--json'], env);
      const images = JSON.parse(run.stdout) as Array<{ id: string; status: string }>;
      return images[0]?.status === 'ready' ? images : undefined;
    });
    expect(listed.map((image) => image.id)).to.deep.equal([imageId]);

    const original = await keeper(['image', 'get', imageId.slice(0, 8)], env);
    expect(original.code, original.stderr).to.equal(0);
    const savedPath = original.stdout.trim();
    expect(savedPath).to.match(/passport scan\.jpg$/);
    expect(sha256(await readFile(savedPath))).to.equal(sha256(photo));
    const coverPath = (await keeper(['image', 'get', imageId, '--rendition', 'cover', '--out', work + '/'], env)).stdout.trim();
    const cover = await sharp(await readFile(coverPath)).metadata();
    expect([cover.width, cover.height]).to.deep.equal([120, 120]);

    // The record-image link is in the local cache: it survives a restart and a full re-sync.
    const table = (await keeper(['image', 'ls', recordId], env)).stdout;
    expect(table).to.match(new RegExp(`${imageId.slice(0, 8)}\\s+passport scan\\.jpg.*ready.*original,cover`));

    expectSentence(await keeper(['image', 'add', 'Passport', join(work, 'missing.jpg')], env), 4, /cannot read .*missing\.jpg/);
    await writeFile(join(work, 'notes.txt'), 'not a picture at all, just some words in a text file');
    expectSentence(await keeper(['image', 'add', 'Passport', join(work, 'notes.txt')], env), 2, /not an image/);
    expectSentence(await keeper(['image', 'get', imageId, '--rendition', 'huge'], env), 2, /must be one of original, cover, compact/);
    expectSentence(await keeper(['image', 'get', 'ffffffff'], env), 4, /no image matches/);

    const removed = await keeper(['image', 'rm', imageId], env);
    expect(removed.code, removed.stderr).to.equal(0);
    expect((await keeper(['image', 'ls', 'Passport'], env)).stdout).to.contain('this record has no images');

    // Sealed: the picture and its name never reach the server in the clear; the cover is made here.
    expect((await keeper(['encrypt'], env, 'moon river lantern\n')).code).to.equal(0);
    const secret = /KEEPER_SESSION="([^"]+)"/.exec((await keeper(['unlock'], env, 'moon river lantern\n')).stdout)![1]!;
    const unlocked = { ...env, KEEPER_SESSION: secret };
    const sealedAdd = await keeper(['image', 'add', 'Passport', file, '--name', 'secret-scan.jpg'], unlocked);
    expect(sealedAdd.code, sealedAdd.stderr).to.equal(0);
    expect(sealedAdd.stdout).to.contain('sealed on this machine');
    const sealedId = /attached image ([0-9a-f-]{36})/.exec(sealedAdd.stdout)![1]!;
    await server.projected();
    const [row] = await server.db.query<{ file_name: string; original: { type: string; address: string }; encrypted: boolean }>(
      `SELECT file_name, original, encrypted FROM rm_images WHERE image_id = $1`,
      [sealedId],
    );
    expect(row!.encrypted).to.equal(true);
    expect(row!.file_name).to.not.contain('secret-scan');
    expect(row!.original.type).to.equal('application/octet-stream');
    expect(row!.original.address).to.not.equal(sha256(photo));
    const blob = await readFile(join(server.blobDir, row!.original.address.slice(0, 2), row!.original.address.slice(2, 4), row!.original.address));
    expect(blob.includes(photo.subarray(0, 64))).to.equal(false);

    const sealedPath = (await keeper(['image', 'get', sealedId, '--out', work + '/'], unlocked)).stdout.trim();
    expect(sealedPath).to.match(/secret-scan\.jpg$/);
    expect(sha256(await readFile(sealedPath))).to.equal(sha256(photo));
    const sealedCover = (await keeper(['image', 'get', sealedId, '--rendition', 'cover', '--out', work + '/'], unlocked)).stdout.trim();
    const sealedCoverInfo = await sharp(await readFile(sealedCover)).metadata();
    expect([sealedCoverInfo.width, sealedCoverInfo.height]).to.deep.equal([120, 120]);
    expectSentence(await keeper(['image', 'get', sealedId, '--rendition', 'compact'], unlocked), 4, /sealed image has no compact copy/);
  });
});
