import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

describe('keeper refusals: each with its sentence and its exit code (real CLI, real server)', function () {
  this.timeout(180_000);
  let server: TestServer;
  let home: string;
  let work: string;
  let env: Record<string, string>;
  let photo: Buffer;

  before(async () => {
    server = await startTestServer(pgliteTarget, { images: { maxBytes: 300_000 } });
    home = await mkdtemp(join(tmpdir(), 'keeper-refusals-'));
    work = await mkdtemp(join(tmpdir(), 'keeper-refusals-files-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    expect((await keeper(['register', '--login', 'rita'], env, 'correct horse battery\n')).code).to.equal(0);
    expect((await keeper(['add', 'Passport', '--kind', 'note'], env)).code).to.equal(0);
    photo = await syntheticPhoto({ width: 800, height: 600, seed: 11 });
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('an image above the size limit: exit 8, both sizes in SI units', async () => {
    const big = join(work, 'big.jpg');
    await writeFile(big, Buffer.concat([photo, Buffer.alloc(400_000 - photo.length)]));
    expectSentence(await keeper(['image', 'add', 'Passport', big], env), 8, /the image is 400 KB \(400,000 bytes\); at most 300 KB \(300,000 bytes\) are accepted/);
  });

  it('a JPEG cut short: exit 2 at upload, saying so in plain words', async () => {
    const cut = join(work, 'cut.jpg');
    await writeFile(cut, photo.subarray(0, Math.floor(photo.length * 0.6)));
    expectSentence(await keeper(['image', 'add', 'Passport', cut], env), 2, /the JPEG file is cut short: it ends before its end marker/);
    expect(JSON.parse((await keeper(['image', 'ls', '--json'], env)).stdout)).to.deep.equal([]);
  });

  it('a file that is not an image: exit 2; a file that is not there: exit 4', async () => {
    const text = join(work, 'notes.jpg');
    await writeFile(text, 'these are notes, not a picture at all; the name says jpg but the bytes do not');
    expectSentence(await keeper(['image', 'add', 'Passport', text], env), 2, /not an image Keeper takes \(JPEG, PNG, WebP, GIF, AVIF or TIFF\)/);
    expectSentence(await keeper(['image', 'add', 'Passport', join(work, 'nothing.jpg')], env), 4, /no such file/);
    expectSentence(await keeper(['image', 'get', 'abcdef12'], env), 4, /no image matches/);
  });

  it('repeated wrong passwords: exit 3, then 7 once the server slows the attempts down', async () => {
    const other = { ...env, KEEPER_HOME: await mkdtemp(join(tmpdir(), 'keeper-refusals-')) };
    try {
      const codes: number[] = [];
      for (let attempt = 0; attempt < 12 && !codes.includes(7); attempt++) {
        const run = await keeper(['login', '--login', 'rita'], other, 'not the password\n');
        codes.push(run.code!);
        if (run.code === 7) expectSentence(run, 7, /too many|wait|try again/i);
      }
      expect(codes[0]).to.equal(3);
      expect(codes.at(-1)).to.equal(7);
    } finally {
      await rm(other.KEEPER_HOME, { recursive: true, force: true });
    }
  });
});
