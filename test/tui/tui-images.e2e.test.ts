import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { readFileIfExists } from '../../src/lib/atomic-file.js';
import { keeper } from '../support/cli.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { tmuxSuite } from './tmux.js';

const PASSWORD = 'correct horse battery';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The open record's pane (right of the list, between the borders) as lines of text. */
function detailColumn(screen: string): string[] {
  return screen
    .split('\n')
    .slice(2, 21)
    .map((line) => line.slice(37, 79).trimEnd());
}

/** A saved path as the detail pane shows it: cut into pieces on the lines under "<rendition> saved at". */
function savedPathShown(screen: string, rendition = 'original'): string | undefined {
  const lines = detailColumn(screen);
  const at = lines.findIndex((line) => line.trim() === `${rendition} saved at`);
  if (at < 0) return undefined;
  const pieces: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!line.startsWith('    ')) break;
    pieces.push(line.slice(4));
  }
  return pieces.join('');
}

async function waitForFile(path: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFileIfExists(path);
    if (text) return text;
    if (Date.now() > deadline) throw new Error(`${path} was never written`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('keeper tui: images of a record (tmux, 80x24)', function () {
  this.timeout(180_000);
  const suite = tmuxSuite('keeper-tui-img-');
  const open = suite.open;
  let server: TestServer;
  let dir: string;
  before(() => {
    ({ server, dir } = suite);
  });

  it('attaches a picture by path, shows it processed, saves and opens the original, keeps the saved path across a restart, and removes it', async () => {
    const home = join(dir, 'ivan');
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: home, HOME: dir };
    expect((await keeper(['register', '--login', 'ivan'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Passport', '--kind', 'note', '--field', 'number=X123'], env)).code).to.equal(0);
    const picture = join(dir, 'photo.png');
    const bytes = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3366cc' } }).png().toBuffer();
    await writeFile(picture, bytes);
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'not a picture at all, just some words in a text file');
    // A stand-in for xdg-open that writes down what it was asked to open.
    const bin = join(dir, 'bin');
    await mkdir(bin);
    const opened = join(dir, 'opened.txt');
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    await chmod(join(bin, 'xdg-open'), 0o755);

    // Background syncs are left slow: what shows "ready" is the sooner sync the TUI runs while its upload is processed.
    const tui = await open('ivan-1', { ...env, PATH: `${bin}:${process.env.PATH ?? ''}` }, ['--sync-every', '600']);
    let screen = await tui.waitFor(/Records \(1\)[\s\S]*● online/);
    expect(detailColumn(screen)).to.include('No images. a attaches one.');
    // The help lists the image keys, at 80x24.
    await tui.keys('?');
    screen = await tui.waitFor('Images (i)');
    expect(screen).to.match(/a {13}attach an image file/);
    expect(screen).to.match(/c, p {10}save cover, compact copy/);
    await tui.keys('Escape');

    // A text file is refused with a sentence, and nothing is attached.
    await tui.keys('a');
    await tui.waitFor('Attach an image to "Passport"');
    await tui.type(notes);
    await tui.keys('Enter');
    screen = await tui.waitFor('not attached: the server refused the input: the file is not an image');
    expect(screen).to.contain('Attach an image to "Passport"');
    await tui.keys('C-u');
    await tui.type(join(dir, 'missing.png'));
    await tui.keys('Enter');
    await tui.waitFor(`not attached: cannot read ${join(dir, 'missing.png')}: no such file`);
    await tui.keys('Escape');
    screen = await tui.waitFor('nothing was attached');
    expect(detailColumn(screen)).to.include('No images. a attaches one.');

    // The picture, under a name of its own.
    await tui.keys('a');
    await tui.waitFor('Attach an image to "Passport"');
    await tui.type(picture);
    await tui.keys('Tab');
    await tui.type('front.png');
    await tui.keys('Enter');
    await tui.waitFor('attached "front.png" to "Passport"; its cover and compact copy are being made');
    screen = await tui.waitFor(/Images \(1\)[\s\S]*front\.png/);
    screen = await tui.waitFor(/\d+(\.\d)? KB · 320x240 · ready/, 60_000);
    expect(screen).to.match(/· 0 pending/);
    // Image news is not mistaken for a change of the record itself.
    await tui.keys('m');
    screen = await tui.waitFor('Messages');
    expect(screen).to.contain('attached "front.png" to "Passport"');
    expect(screen).to.not.contain('changed elsewhere');
    await tui.keys('Escape');

    // Choose it, save the original: the path is shown in the pane and the file is the same bytes.
    await tui.keys('i');
    await tui.waitFor('Enter save/open  x remove  Esc back');
    await tui.keys('Enter');
    screen = await tui.waitFor(/o {2}save the original/);
    expect(screen).to.match(/c {2}save the cover \(120x120\)/);
    await tui.keys('o');
    screen = await tui.waitFor('saved the original of "front.png" to');
    const [folder, ...others] = await readdir(join(home, 'images'));
    expect(others).to.deep.equal([]);
    const saved = join(home, 'images', folder!, 'front.png');
    expect(sha256(await readFile(saved))).to.equal(sha256(bytes));
    screen = await tui.waitFor('original saved at');
    expect(savedPathShown(screen)).to.equal(saved);

    // "Open" hands the saved file to xdg-open and says so.
    await tui.keys('v');
    await tui.waitFor(`opened ${saved} with xdg-open`);
    expect(await waitForFile(opened)).to.equal(saved);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);

    // Started again (without xdg-open this time): the saved path is still listed, from the local cache.
    const again = await open('ivan-2', { ...env, PATH: '/nonexistent' });
    screen = await again.waitFor(/Records \(1\)[\s\S]*● online/);
    screen = await again.waitFor('original saved at');
    expect(savedPathShown(screen)).to.equal(saved);
    expect(screen).to.match(/320x240 · ready/);
    await again.keys('i', 'v');
    // (The message wraps onto the next row where the path begins.)
    await again.waitFor(new RegExp(`no xdg-open here to open it with; the original is saved at\\s+${saved.slice(0, 10)}`));

    // Removed after a confirmation; the saved file stays.
    await again.keys('x');
    await again.waitFor('Remove the image "front.png" from "Passport"?');
    await again.keys('y');
    await again.waitFor('removed the image "front.png" from "Passport"');
    screen = await again.waitFor('No images. a attaches one.');
    expect(detailColumn(screen).join('\n')).to.not.contain('front.png');
    expect(sha256(await readFile(saved))).to.equal(sha256(bytes));
    await again.keys('q');
    expect(await again.exitStatus()).to.equal(0);
    const listed = await keeper(['image', 'ls', 'Passport'], env);
    expect(listed.stdout).to.contain('this record has no images');
  });

  it('seals a picture attached to an encrypted vault and saves it opened again, with no compact copy to save', async () => {
    const home = join(dir, 'judy');
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: home, HOME: dir };
    expect((await keeper(['register', '--login', 'judy'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Diary', '--kind', 'note'], env)).code).to.equal(0);
    expect((await keeper(['encrypt'], env, 'moon river lantern\n')).code).to.equal(0);
    const picture = join(dir, 'scan.jpg');
    const bytes = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#cc6633' } }).jpeg({ quality: 80 }).toBuffer();
    await writeFile(picture, bytes);

    const tui = await open('judy', env, ['--sync-every', '600']);
    await tui.waitFor('This vault is encrypted: type the secret word to open it.');
    await tui.type('moon river lantern');
    await tui.keys('Enter');
    await tui.waitFor(/Records \(1\)[\s\S]*· unlocked/);
    await tui.keys('a');
    await tui.waitFor('Attach an image to "Diary"');
    await tui.type(picture);
    await tui.keys('Enter');
    await tui.waitFor('attached "scan.jpg" to "Diary"; sealed here, its cover made here');
    // Sealed: ready at once (the server makes nothing), and no pixels the server could read.
    let screen = await tui.waitFor(/scan\.jpg\s+│\n.*\d+(\.\d)? [KM]?B · sealed · ready/);

    await tui.keys('i', 'p');
    await tui.waitFor('a sealed image has no compact copy');
    await tui.keys('o');
    await tui.waitFor('saved the original of "scan.jpg" to');
    await tui.keys('c');
    screen = await tui.waitFor('cover saved at');
    const original = savedPathShown(screen)!;
    const cover = savedPathShown(screen, 'cover')!;
    expect(original).to.match(/\/images\/[0-9a-f]{8}\/scan\.jpg$/);
    expect(cover).to.match(/\/images\/[0-9a-f]{8}\/scan\.cover\.jpg$/);
    expect(sha256(await readFile(original))).to.equal(sha256(bytes));
    const coverInfo = await sharp(await readFile(cover)).metadata();
    expect([coverInfo.width, coverInfo.height]).to.deep.equal([120, 120]);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });

  it('shows an image the server could not process as failed, with the reason, and still saves its original', async () => {
    const home = join(dir, 'leo');
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: home, HOME: dir };
    expect((await keeper(['register', '--login', 'leo'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Receipt', '--kind', 'note'], env)).code).to.equal(0);
    // A PNG whose pixel data is damaged in the middle: its chunks are whole, so it passes the
    // upload's structural checks, but its pixels cannot be decoded.
    const raw = Buffer.alloc(320 * 240 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
    const bytes = Buffer.from(await sharp(raw, { raw: { width: 320, height: 240, channels: 3 } }).png().toBuffer());
    const idat = bytes.indexOf('IDAT');
    const idatLength = bytes.readUInt32BE(idat - 4);
    for (let i = idat + 4 + Math.floor(idatLength / 2); i < idat + 4 + idatLength - 8; i++) bytes[i] = (i * 31) & 0xff;
    const picture = join(dir, 'torn.png');
    await writeFile(picture, bytes);

    const tui = await open('leo', env, ['--sync-every', '600']);
    await tui.waitFor(/Records \(1\)[\s\S]*● online/);
    await tui.keys('a');
    await tui.waitFor('Attach an image to "Receipt"');
    await tui.type(picture);
    await tui.keys('Enter');
    await tui.waitFor('attached "torn.png" to "Receipt"; its cover and compact copy are being made');
    let screen = await tui.waitFor(/torn\.png[\s\S]*failed: /, 60_000);
    expect(detailColumn(screen).join(' ')).to.match(/failed: .*(png|read|decode|image)/i);
    // No cover to save, and the menu says why; the original is there as uploaded.
    await tui.keys('i');
    await tui.waitFor('Enter save/open  x remove  Esc back');
    await tui.keys('Enter');
    screen = await tui.waitFor(/o {2}save the original/);
    expect(screen).to.match(/c {2}save the cover \(120x120\) +none/);
    await tui.keys('c');
    await tui.waitFor('there is no cover: making it failed (the image could not be decoded');
    await tui.keys('o');
    await tui.waitFor('saved the original of "torn.png" to');
    const [folder] = await readdir(join(home, 'images'));
    expect(sha256(await readFile(join(home, 'images', folder!, 'torn.png')))).to.equal(sha256(bytes));
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });

  it('says on the message line that the server is down when attaching (the picture then waits here) or saving, and goes on working', async () => {
    const own = await startTestServer(pgliteTarget);
    let running = true;
    try {
      const env = { KEEPER_SERVER: own.address, KEEPER_HOME: join(dir, 'kate'), HOME: dir };
      expect((await keeper(['register', '--login', 'kate'], env, `${PASSWORD}\n`)).code).to.equal(0);
      expect((await keeper(['add', 'Car', '--kind', 'note'], env)).code).to.equal(0);
      const picture = join(dir, 'car.png');
      await writeFile(picture, await sharp({ create: { width: 64, height: 48, channels: 3, background: '#22aa44' } }).png().toBuffer());
      expect((await keeper(['image', 'add', 'Car', picture], env)).code).to.equal(0);

      const tui = await open('kate', env, ['--sync-every', '600']);
      await tui.waitFor(/Images \(1\)[\s\S]*car\.png[\s\S]*● online/);
      await own.close();
      running = false;

      await tui.keys('a');
      await tui.waitFor('Attach an image to "Car"');
      await tui.type(picture);
      await tui.keys('Enter');
      // An upload waits on this machine for the next sync (test/e2e/image-offline-cli.e2e.test.ts sends one).
      await tui.waitFor(/the server cannot be reached: "car\.png" is kept on this machine and will be\s+sent to "Car" at the next sync/);
      await tui.keys('i', 'o');
      await tui.waitFor('was not saved: cannot reach the Keeper server at');
      await tui.keys('s');
      const screen = await tui.waitFor(/offline: cannot reach[\s\S]*○ offline/);
      expect(screen).to.match(/Images \(1\)/);
      await tui.keys('q');
      expect(await tui.exitStatus()).to.equal(0);
    } finally {
      if (running) await own.close();
    }
  });
});
