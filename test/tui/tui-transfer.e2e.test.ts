import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { keeper } from '../support/cli.js';
import { tmuxSuite } from './tmux.js';

const PASSWORD = 'correct horse battery';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'import');

describe('keeper tui: import and export (tmux, 80x24)', function () {
  this.timeout(180_000);
  const suite = tmuxSuite('keeper-tui-transfer-');

  it('I shows what a file would import, Enter again imports it once; X exports the vault to a file, saying it is plaintext', async () => {
    const { server, dir } = suite;
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: join(dir, 'tess'), HOME: dir };
    expect((await keeper(['register', '--login', 'tess'], env, `${PASSWORD}\n`)).code).to.equal(0);
    const tui = await suite.open('tess', env, ['--sync-every', '600']);
    await tui.waitFor(/Records \(0\)[\s\S]*● online/);

    await tui.keys('I');
    await tui.waitFor('Import records from a file');
    await tui.keys('Right', 'Right');
    await tui.waitFor('< keepassxc-csv >');
    await tui.keys('Tab');
    await tui.type(join(FIXTURES, 'keepassxc.csv'));
    await tui.keys('Enter');
    let screen = await tui.waitFor('3 item(s) read: would create 3 (2 login, 1 note)');
    expect(screen).to.contain('Enter imports them.');
    expect(screen).to.contain('Records (0)');
    await tui.keys('Enter');
    screen = await tui.waitFor('imported 3 record(s) from keepassxc-csv');
    screen = await tui.waitFor('Records (3)');
    expect(screen).to.match(/Build box/);

    // The same file again: nothing new.
    await tui.keys('I', 'Right', 'Right', 'Tab');
    await tui.type(join(FIXTURES, 'keepassxc.csv'));
    await tui.keys('Enter');
    await tui.waitFor('would create 0');
    await tui.waitFor('3 already in the vault: left as they are');
    await tui.keys('Escape');
    await tui.waitFor('nothing was imported');

    // A file that is not of the format: the sentence, in the box.
    await tui.keys('I', 'Tab');
    await tui.type(join(FIXTURES, 'keepassxc.csv'));
    await tui.keys('Enter');
    await tui.waitFor('keepassxc.csv is not JSON');
    await tui.keys('Escape');

    const out = join(dir, 'out.json');
    await tui.keys('X');
    await tui.waitFor('Export the vault to a file');
    await tui.keys('Tab', 'C-u');
    await tui.type(out);
    await tui.keys('Enter');
    await tui.waitFor(/exported 3 record\(s\) to [\s\S]*in\s+plaintext/);
    const doc = JSON.parse(await readFile(out, 'utf8')) as { records: Array<{ name: string }> };
    expect(doc.records.map((r) => r.name)).to.deep.equal(['Bank', 'Build box', 'Door code']);
    expect((await stat(out)).mode & 0o777).to.equal(0o600);
  });
});
