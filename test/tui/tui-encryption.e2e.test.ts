import { join } from 'node:path';
import { expect } from 'chai';
import { keeper } from '../support/cli.js';
import { tmuxSuite } from './tmux.js';

const PASSWORD = 'correct horse battery';
const WORD = 'violet harbour kettle 1987';

/** Encryption turned on or changed elsewhere while the TUI runs: the TUI follows the vault's real lock state. */
describe('keeper tui and encryption turned on elsewhere (tmux, 80x24)', function () {
  this.timeout(120_000);
  const suite = tmuxSuite('keeper-tui-enc-');

  it('asks for the word after `keeper encrypt` elsewhere, says a wrong one is wrong and asks again, and L locks and unlocks', async () => {
    const env = { KEEPER_SERVER: suite.server.address, KEEPER_HOME: join(suite.dir, 'pia'), HOME: suite.dir };
    expect((await keeper(['register', '--login', 'pia'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Router', '--kind', 'login', '--field', 'user=admin', '--secret', 'password=admin123'], env)).code).to.equal(0);
    const tui = await suite.open('pia', env, ['--sync-every', '600']);
    await tui.waitFor(/Router[\s\S]*· not encrypted/);

    // Another device (here the CLI with its own local copy) turns encryption on.
    const laptop = { ...env, KEEPER_HOME: join(suite.dir, 'pia-laptop') };
    expect((await keeper(['login', '--login', 'pia'], laptop, `${PASSWORD}\n`)).code).to.equal(0);
    const encrypted = await keeper(['encrypt'], laptop, `${WORD}\n`);
    expect(encrypted.code, encrypted.stderr).to.equal(0);

    await tui.keys('s');
    await tui.waitFor('Encryption is on for this vault: type its secret word.');
    await tui.type('not the word');
    await tui.keys('Enter');
    let screen = await tui.waitFor('the secret word is wrong; try again');
    expect(screen).to.contain('Encryption is on for this vault');
    await tui.type('still not it');
    await tui.keys('Enter');
    // Asked again, still saying so (and the vault's values stay hidden).
    screen = await tui.waitFor(/secret word is wrong; try again/);
    expect(screen).to.not.contain('admin123');
    await tui.type(WORD);
    await tui.keys('Enter');
    screen = await tui.waitFor(/Router[\s\S]*· unlocked/);
    await tui.keys('Enter', 'r');
    screen = await tui.waitFor('password  admin123 (sensitive)');
    expect(screen).to.not.contain('(sealed)');
    await tui.keys('Escape');

    // L locks: the word is asked for (not "this vault has no secret word"), a wrong one says so.
    await tui.keys('L');
    screen = await tui.waitFor(/Locked\. Type the secret word to unlock\.[\s\S]*· locked\s*$/);
    expect(screen).to.not.contain('no secret word');
    await tui.type('wrong');
    await tui.keys('Enter');
    await tui.waitFor('the secret word is wrong; try again');
    await tui.type(WORD);
    await tui.keys('Enter');
    screen = await tui.waitFor(/Router[\s\S]*· unlocked/);

    // Changes made here after all that still reach the server, sealed.
    await tui.keys('e');
    await tui.waitFor('Edit "Router"');
    await tui.keys('Down', 'Down', 'End');
    await tui.type('2');
    await tui.keys('C-s');
    await tui.waitFor(/saved "Router"[\s\S]*· 0 pending/);
    const shown = await keeper(['show', 'Router', '--reveal'], laptop, `${WORD}\n`);
    expect(shown.stdout).to.match(/user +admin2/);
    expect(shown.stdout).to.match(/password +admin123/);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });

  it('E turns encryption on and changes the word, refusing weak words with the reason (the client core rule)', async () => {
    const env = { KEEPER_SERVER: suite.server.address, KEEPER_HOME: join(suite.dir, 'tess'), HOME: suite.dir };
    expect((await keeper(['register', '--login', 'tess'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Locker', '--secret', 'code=4711'], env)).code).to.equal(0);
    const tui = await suite.open('tess', env, ['--sync-every', '600']);
    await tui.waitFor(/Locker[\s\S]*· not encrypted/);

    await tui.keys('E');
    await tui.waitFor('Turn encryption on');
    await tui.type('short');
    await tui.keys('Tab');
    await tui.type('short');
    await tui.keys('Enter');
    let screen = await tui.waitFor('the secret word is too short (5 characters): use at least 10');
    expect(screen).to.not.contain('short\n');
    await tui.type('moon river');
    await tui.keys('Tab');
    await tui.type('moon river');
    await tui.keys('Enter');
    await tui.waitFor('the secret word is too easy to guess: add more words');
    await tui.type(WORD);
    await tui.keys('Tab');
    await tui.type(`${WORD}x`);
    await tui.keys('Enter');
    await tui.waitFor('the two new secret words differ; type them again');
    await tui.type(WORD);
    await tui.keys('Tab');
    await tui.type(WORD);
    await tui.keys('Enter');
    screen = await tui.waitFor(/encryption is on: 1 record\(s\) re-written sealed[\s\S]*· unlocked/);
    expect(screen).to.not.contain(WORD);
    expect((await keeper(['status'], env, `${WORD}\n`)).stdout).to.match(/encryption on/);

    await tui.keys('E');
    await tui.waitFor('Change the secret word');
    await tui.type('not the word');
    await tui.keys('Tab');
    await tui.type('a');
    await tui.keys('Tab');
    await tui.type('a');
    await tui.keys('Enter');
    await tui.waitFor('the secret word is too short (1 character)');
    await tui.keys('Up');
    await tui.type('not the word');
    await tui.keys('Tab');
    await tui.type('amber quarry lantern');
    await tui.keys('Tab');
    await tui.type('amber quarry lantern');
    await tui.keys('Enter');
    await tui.waitFor('the current secret word is wrong; nothing changed');
    // The new word stays typed: Enter steps through its boxes and sends from the last.
    await tui.type(WORD);
    await tui.keys('Enter', 'Enter', 'Enter');
    await tui.waitFor('secret word changed');
    const shown = await keeper(['show', 'Locker', '--reveal'], env, 'amber quarry lantern\n');
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/code +4711/);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });
});
