import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { keeper } from '../support/cli.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { tmuxSuite } from './tmux.js';

const PASSWORD = 'correct horse battery';

/** The list box's rows (left column, between the borders), to tell list rows from the rest of the screen. */
function listRows(screen: string): string[] {
  return screen
    .split('\n')
    .slice(5, 21)
    .map((line) => line.slice(1, 35).trim())
    // (A long message takes rows from the body: the list's bottom border may be among these rows.)
    .filter((row) => row && !/^─+$/.test(row));
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('keeper tui in a terminal (tmux, 80x24)', function () {
  this.timeout(120_000);
  const suite = tmuxSuite('keeper-tui-');
  const open = suite.open;
  let server: TestServer;
  let dir: string;
  before(() => {
    ({ server, dir } = suite);
  });
  const home = (name: string) => join(dir, name);

  it('logs in, adds, filters, opens, reveals, edits, syncs a change and a conflict, deletes, quits, and starts again with the saved state', async () => {
    await (await server.client()).register('erin', PASSWORD);
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: home('erin'), HOME: dir };

    // Background syncs are left to the keys here, so that the conflict below happens for sure.
    const tui = await open('erin-1', env, ['--sync-every', '600']);
    await tui.waitFor('Log in to Keeper');
    await tui.type('erin');
    await tui.keys('Enter');
    await tui.type(PASSWORD);
    let screen = await tui.waitFor('*'.repeat(PASSWORD.length));
    expect(screen).to.not.contain(PASSWORD);
    await tui.keys('Enter');
    screen = await tui.waitFor(/Records \(0\)[\s\S]*● online/);
    expect(screen).to.contain('erin @ ');
    expect(screen).to.contain('No records yet.');

    // A login with a password, through the form (the login template: user, password, url).
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Bank account');
    await tui.keys('Tab', 'Tab');
    await tui.type('erin');
    await tui.keys('Tab');
    await tui.type('hunter2');
    screen = await tui.waitFor(/password +\*{7} +sensitive/);
    expect(screen).to.not.contain('hunter2');
    await tui.keys('C-s');
    await tui.waitFor('No value in: url.');
    await tui.keys('y');
    await tui.waitFor('added "Bank account"');
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Mail');
    await tui.keys('C-s');
    await tui.waitFor('No value in: user, password, url.');
    await tui.keys('y');
    screen = await tui.waitFor(/Records \(2\)[\s\S]*· 0 pending/);
    expect(listRows(screen).map((row) => row.split(/\s{2,}/)[0])).to.deep.equal(['Bank account', 'Mail']);

    // The filter narrows the list on every key.
    await tui.keys('/');
    await tui.type('ban');
    screen = await tui.waitFor('Records (1 of 2)');
    expect(listRows(screen)).to.have.length(1);
    expect(listRows(screen)[0]).to.match(/^Bank account\s+login\s+\d\d:\d\d$/);
    await tui.type('x');
    screen = await tui.waitFor('Nothing matches "banx".');
    await tui.keys('BSpace', 'Enter');
    await tui.waitFor('Records (1 of 2)');

    // Open it: fields masked until revealed; with no clipboard tool here, copying goes through the terminal.
    await tui.keys('Enter');
    screen = await tui.waitFor('Up/Down field');
    expect(screen).to.match(/user +erin/);
    expect(screen).to.contain('password  ******** (sensitive)');
    expect(screen).to.not.contain('hunter2');
    await tui.keys('r');
    await tui.waitFor('password  hunter2 (sensitive)');
    await tui.keys('c');
    await tui.waitFor('copied "user" to the clipboard through the terminal (OSC 52)');

    // Another device changes the record: a sync brings the change onto the open record.
    const phone = { ...env, KEEPER_HOME: home('erin-phone') };
    expect((await keeper(['login', '--login', 'erin'], phone, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['edit', 'Bank account', '--field', 'url=https://bank.example'], phone)).code).to.equal(0);
    await tui.keys('Escape');
    await tui.keys('s');
    screen = await tui.waitFor('"Bank account" was changed elsewhere: showing the new version');
    expect(screen).to.match(/url +https:\/\/bank\.example/);

    // Both devices change the user: the server's value wins, this edit is kept as a marked conflict copy.
    // (Down twice from the name lands on the first field's value.)
    expect((await keeper(['edit', 'Bank account', '--field', 'user=erin-phone'], phone)).code).to.equal(0);
    await tui.keys('e');
    await tui.waitFor('Edit "Bank account"');
    await tui.keys('Down', 'Down', 'End');
    await tui.type('2');
    await tui.keys('C-s');
    await tui.waitFor(`conflict: "Bank account" was also changed elsewhere; the server's user won;`);
    screen = await tui.waitFor(/Records \(2 of 3\)[\s\S]*· 0 pending/);
    const rows = listRows(screen);
    expect(rows.map((row) => row.split(/\s{2,}/)[0])).to.have.members(['Bank account', '!Bank account']);
    expect(screen).to.match(/user +erin-phone/);
    await tui.keys(rows[0]!.startsWith('!') ? 'Up' : 'Down');
    screen = await tui.waitFor('! Conflict copy of "Bank account"');
    expect(screen).to.match(/user +erin2/);

    // Delete both, each after a confirmation.
    await tui.keys('d');
    await tui.waitFor('Delete "Bank account"?');
    await tui.keys('y');
    await tui.waitFor('Records (1 of 2)');
    await tui.keys('d');
    await tui.waitFor('Delete "Bank account"?');
    await tui.keys('y');
    await tui.waitFor('deleted "Bank account"');
    await tui.waitFor(/Nothing matches "ban"[\s\S]*· 0 pending/);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);

    // The session and the local copy were kept: no login, the state as left.
    const again = await open('erin-2', env);
    screen = await again.waitFor(/Records \(1\)[\s\S]*● online/);
    expect(listRows(screen).map((row) => row.split(/\s{2,}/)[0])).to.deep.equal(['Mail']);
    expect(screen).to.not.contain('Bank account');
    await again.keys('q');
    expect(await again.exitStatus()).to.equal(0);

    // The server has the same state (the edits were pushed, not only saved here).
    const listed = await keeper(['ls', '--json'], env);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(JSON.parse(listed.stdout).records.map((r: { name: string }) => r.name)).to.deep.equal(['Mail']);
  });

  it('unlocks an encrypted vault only with the right secret word, and locks itself when idle', async () => {
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: home('frank'), HOME: dir };
    expect((await keeper(['register', '--login', 'frank'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Router', '--kind', 'login', '--field', 'url=http://192.168.0.1', '--secret', 'password=admin123'], env)).code).to.equal(0);
    const encrypted = await keeper(['encrypt'], env, 'moon river lantern\n');
    expect(encrypted.code, encrypted.stderr).to.equal(0);

    const tui = await open('frank', env, ['--auto-lock', '3']);
    await tui.waitFor('This vault is encrypted: type the secret word to open it.');
    await tui.type('not the word');
    await tui.keys('Enter');
    let screen = await tui.waitFor('the secret word is wrong; try again');
    expect(screen).to.not.contain('Router');
    await tui.type('moon river lantern');
    await tui.keys('Enter');
    screen = await tui.waitFor(/Router[\s\S]*· unlocked/);
    await tui.keys('Enter', 'r');
    await tui.waitFor('password  admin123 (sensitive)');

    // Three idle seconds later nothing decrypted is left on the screen.
    // (The message and the status bar are drawn apart: a background sync may redraw the bar in between.)
    screen = await tui.waitFor(/Locked after 3 seconds without a key press\.[\s\S]*· locked\s*$/, 10_000);
    expect(screen).to.not.contain('admin123');
    expect(screen).to.not.contain('Router');
    await tui.type('moon river lantern');
    await tui.keys('Enter');
    screen = await tui.waitFor(/Router[\s\S]*· unlocked/);
    expect(screen).to.not.contain('admin123');
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });

  it('says in the UI when the server is down, registers once it is up, restores from history, and redraws cleanly on resize', async () => {
    const env = { KEEPER_SERVER: `127.0.0.1:${await closedPort()}`, KEEPER_HOME: home('gina'), HOME: dir };
    const tui = await open('gina', env);
    await tui.waitFor('Log in to Keeper');
    await tui.type('gina');
    await tui.keys('Enter');
    await tui.type(PASSWORD);
    await tui.keys('Enter');
    let screen = await tui.waitFor('cannot reach the Keeper server');
    expect(screen).to.contain('Log in to Keeper');

    // Point the connect screen at the real server and register there.
    await tui.keys('C-r', 'Up', 'Up', 'C-u');
    await tui.type(server.address);
    await tui.keys('Tab', 'Tab');
    await tui.type(PASSWORD);
    await tui.keys('Tab');
    await tui.type(PASSWORD);
    await tui.keys('Enter');
    screen = await tui.waitFor(/registered and logged in as gina[\s\S]*● online/);
    expect(screen).to.contain('Records (0)');

    // History and restore: a renamed record goes back to its first version; a deleted one comes back.
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Wifi');
    await tui.keys('C-s');
    await tui.waitFor('No value in: user, password, url.');
    await tui.keys('y');
    await tui.waitFor('added "Wifi"');
    await tui.keys('e');
    await tui.waitFor('Edit "Wifi"');
    await tui.keys('End');
    await tui.type(' at home');
    await tui.keys('C-s');
    await tui.waitFor(/saved "Wifi at home"[\s\S]*· 0 pending/);
    await tui.keys('h');
    screen = await tui.waitFor('History of "Wifi at home"');
    expect(screen).to.match(/v2 +\S+ \S+ +changed +Wifi at home/);
    expect(screen).to.match(/v1 +\S+ \S+ +created +Wifi/);
    await tui.keys('Down', 'Enter');
    await tui.waitFor('Restore "Wifi" as it was at version 1?');
    await tui.keys('y');
    screen = await tui.waitFor(/restored "Wifi" as it was at version 1[\s\S]*· 0 pending/);
    expect(listRows(screen)).to.have.length(1);
    expect(listRows(screen)[0]).to.match(/^Wifi +login/);
    await tui.keys('d');
    await tui.waitFor('Delete "Wifi"?');
    await tui.keys('y');
    await tui.waitFor(/Records \(0\)[\s\S]*· 0 pending/);
    await tui.keys('u');
    await tui.waitFor(/Deleted records[\s\S]*Wifi +login/);
    await tui.keys('Enter');
    await tui.waitFor('History of "Wifi"');
    await tui.keys('Enter');
    await tui.waitFor('Restore "Wifi" as it was at version 3?');
    await tui.keys('y');
    screen = await tui.waitFor(/Records \(1\)[\s\S]*· 0 pending/);
    expect(listRows(screen)[0]).to.match(/^Wifi +login/);

    await tui.resize(100, 30);
    screen = await tui.waitFor(/^┌─ Filter ─{30,}┐┌─ Record ─{40,}┐$/m);
    let lines = screen.replace(/\n$/, '').split('\n');
    expect(lines).to.have.length(30);
    expect(lines[0]).to.match(/^ Keeper · gina @ .+ \? help {2}q quit$/);
    expect(lines[1]).to.have.length(100);
    expect(lines[29]).to.match(/^ ● online · version 5 /);
    await tui.resize(80, 24);
    screen = await tui.waitFor(/^┌─ Filter ─{20,29}┐┌─ Record ─{30,39}┐$/m);
    lines = screen.replace(/\n$/, '').split('\n');
    expect(lines).to.have.length(24);
    expect(lines[1]).to.have.length(80);
    expect(lines[21]).to.match(/^└─+┘└─+┘$/);
    expect(lines[23]).to.match(/^ ● online · version 5 /);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });
  it('asks to log in again when the session has ended and cannot be renewed', async () => {
    // Access tokens of one second: every call renews first, so an ended session shows at once.
    const shortLived = await startTestServer(pgliteTarget, { accessTtlSeconds: 1 });
    try {
      const env = { KEEPER_SERVER: shortLived.address, KEEPER_HOME: home('hank'), HOME: dir };
      expect((await keeper(['register', '--login', 'hank'], env, `${PASSWORD}\n`)).code).to.equal(0);
      const tui = await open('hank', env, ['--sync-every', '600']);
      await tui.waitFor(/Records \(0\)[\s\S]*● online/);
      // Logging out elsewhere revokes the session's refresh tokens on the server.
      expect((await keeper(['logout'], env)).code).to.equal(0);
      await tui.keys('s');
      const screen = await tui.waitFor('Log in to Keeper');
      expect(screen).to.contain('session ended: log in again (');
      expect(screen).to.match(/Login +hank/);
      await tui.type(PASSWORD);
      await tui.keys('Enter');
      await tui.waitFor(/logged in as hank[\s\S]*● online/);
      await tui.keys('q');
      expect(await tui.exitStatus()).to.equal(0);
    } finally {
      await shortLived.close();
    }
  });
});
