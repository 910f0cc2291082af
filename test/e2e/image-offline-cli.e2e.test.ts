import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { keeper } from '../support/cli.js';

describe('keeper image add while the server is out of reach', function () {
  this.timeout(180_000);
  let server: TestServer;
  let proxy: TcpProxy;
  let home: string;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    proxy = await startTcpProxy(server.address);
    home = await mkdtemp(join(tmpdir(), 'keeper-offline-image-'));
    work = await mkdtemp(join(tmpdir(), 'keeper-offline-files-'));
    env = { KEEPER_SERVER: proxy.address, KEEPER_HOME: home, KEEPER_TIMEOUT_MS: '4000' };
  });
  afterEach(() => proxy.mend());
  after(async () => {
    await proxy.close();
    await server.close();
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  async function waiting(): Promise<string[]> {
    const root = join(home, 'outbox');
    const servers = await readdir(root).catch(() => []);
    const out: string[] = [];
    for (const s of servers) for (const u of await readdir(join(root, s))) for (const i of await readdir(join(root, s, u))) out.push(join(root, s, u, i));
    return out;
  }

  it('checks the file, keeps the upload on this machine, and sends it at the next sync once the server is back (after a record made offline too)', async () => {
    expect((await keeper(['register', '--login', 'olive'], env, 'correct horse battery\n')).code).to.equal(0);
    expect((await keeper(['add', 'Car', '--kind', 'note', '--field', 'text=blue'], env)).code).to.equal(0);
    const photo = await syntheticPhoto({ width: 640, height: 480, seed: 5 });
    const file = join(work, 'car.jpg');
    await writeFile(file, photo);
    await writeFile(join(work, 'notes.txt'), 'just words, not a picture');

    proxy.cut();
    const queued = await keeper(['image', 'add', 'Car', file], env);
    expect(queued.code, queued.stderr).to.equal(0);
    expect(queued.stderr).to.match(/keeper: offline \(the server at .* cannot be reached\)/);
    const imageId = /the server cannot be reached: image ([0-9a-f-]{36}) \(car\.jpg\) for "Car" is kept on this machine and will be sent at the next sync/.exec(queued.stdout)?.[1];
    expect(imageId, queued.stdout).to.be.a('string');
    // A record made offline takes a picture offline too: it goes after the record.
    expect((await keeper(['add', 'Boat', '--kind', 'note'], env)).code).to.equal(0);
    const boat = await keeper(['image', 'add', 'Boat', file, '--name', 'boat.jpg'], env);
    expect(boat.stdout, boat.stderr).to.contain('(boat.jpg) for "Boat" is kept on this machine');
    // The same checks as online, before anything is kept.
    // (stderr holds the offline notice first, then the refusal's sentence)
    const notImage = await keeper(['image', 'add', 'Car', join(work, 'notes.txt')], env);
    expect([notImage.code, notImage.stderr.trim().split('\n').at(-1)]).to.deep.equal([2, `keeper: ${join(work, 'notes.txt')} is not an image Keeper takes (JPEG, PNG, WebP, GIF, AVIF or TIFF)`]);
    const missing = await keeper(['image', 'add', 'Car', join(work, 'missing.jpg')], env);
    expect([missing.code, missing.stderr.trim().split('\n').at(-1)]).to.deep.equal([4, `keeper: cannot read ${join(work, 'missing.jpg')}: no such file`]);
    expect(await waiting()).to.have.length(2);

    proxy.mend();
    const synced = await keeper(['sync'], env);
    expect(synced.code, synced.stderr).to.equal(0);
    expect(synced.stderr).to.contain(`keeper: sent the image car.jpg that was waiting (id ${imageId})`);
    expect(synced.stderr).to.contain('keeper: sent the image boat.jpg that was waiting');
    expect(await waiting()).to.have.length(0);
    const listed = JSON.parse((await keeper(['image', 'ls', 'Car', '--json'], env)).stdout) as Array<{ id: string; fileName: string; original: { size: number } }>;
    expect(listed.map((i) => [i.id, i.fileName, i.original.size])).to.deep.equal([[imageId, 'car.jpg', photo.length]]);
    expect((await keeper(['image', 'ls', 'Boat'], env)).stdout).to.contain('boat.jpg');
  });

  it('keeps a picture for an encrypted vault sealed while it waits, and sends it with the next command that reaches the server', async () => {
    expect((await keeper(['encrypt'], env, 'moon river lantern\n')).code).to.equal(0);
    const secret = /KEEPER_SESSION="([^"]+)"/.exec((await keeper(['unlock'], env, 'moon river lantern\n')).stdout)![1]!;
    const unlocked = { ...env, KEEPER_SESSION: secret };
    const photo = await syntheticPhoto({ width: 320, height: 240, seed: 9 });
    const file = join(work, 'secret.jpg');
    await writeFile(file, photo);

    proxy.cut();
    const queued = await keeper(['image', 'add', 'Car', file], unlocked);
    expect(queued.stdout, queued.stderr).to.contain('is kept on this machine, sealed, and will be sent');
    const [entry] = await waiting();
    const kept = await readFile(join(entry!, 'original'));
    expect(kept.includes(photo.subarray(0, 64))).to.equal(false);
    expect(await readFile(join(entry!, 'meta.json'), 'utf8')).to.not.contain('secret.jpg');

    proxy.mend();
    const listed = await keeper(['image', 'ls', 'Car'], unlocked);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stderr).to.contain('keeper: sent the image (sealed name) that was waiting');
    expect(listed.stdout).to.contain('secret.jpg');
    expect(await waiting()).to.have.length(0);
  });
});
