import { join } from 'node:path';
import { expect } from 'chai';
import { keeper } from '../support/cli.js';
import { tmuxSuite, type Pane } from './tmux.js';

const PASSWORD = 'correct horse battery';

/** The TUI's everyday tools in a real terminal: tags and the star in the form and the list, one-time-code fields. */
describe('keeper tui everyday tools in a terminal (tmux, 100x30)', function () {
  this.timeout(120_000);
  const suite = tmuxSuite('keeper-tui-everyday-');
  let env: Record<string, string>;
  let tui: Pane;

  before(async () => {
    const { server, dir } = suite;
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: join(dir, 'pia'), HOME: dir };
    expect((await keeper(['register', '--login', 'pia'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Alpha', '--kind', 'note', '--tag', 'home'], env)).code).to.equal(0);
    tui = await suite.open('pia', env, ['--sync-every', '600'], { width: 100, height: 30 });
    await tui.waitFor(/Records \(1\)[\s\S]*● online/);
  });

  it('adds a record with tags, a star and a one-time-code field from the form; filters by #tag and *; f unstars', async () => {
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Mail');
    // Name, Kind, user, password, url, then the tags.
    await tui.keys('Down', 'Down', 'Down', 'Down', 'Down');
    await tui.waitFor('separate tags with commas');
    await tui.type('work, mail');
    await tui.keys('C-f', 'C-n');
    await tui.type('otp');
    await tui.keys('Tab');
    await tui.type('JBSWY3DPEHPK3PXP');
    await tui.keys('C-o');
    const form = await tui.waitFor(/otp +\*+ +one-time/);
    expect(form).to.not.contain('JBSWY3DPEHPK3PXP');
    await tui.keys('C-s');
    await tui.waitFor('No value in:');
    await tui.keys('y');
    await tui.waitFor('added "Mail"');
    const saved = JSON.parse((await keeper(['show', 'Mail', '--json', '--reveal'], env)).stdout);
    expect(saved).to.deep.include({ tags: ['work', 'mail'], favourite: true });
    expect(saved.fields.at(-1)).to.deep.equal({ name: 'otp', value: 'JBSWY3DPEHPK3PXP', sensitive: true, kind: 'totp' });

    // Starred first, marked; the open record says its tags.
    let screen = await tui.waitFor(/\*Mail[\s\S]*Alpha/);
    expect(screen).to.contain('tags: #work #mail');
    await tui.keys('/');
    await tui.type('#home');
    screen = await tui.waitFor(/Records \(1 of 2\)/);
    expect(screen).to.contain('Alpha');
    await tui.keys('C-u');
    await tui.type('*');
    screen = await tui.waitFor(/Records \(1 of 2\)[\s\S]*Mail/);
    await tui.keys('Escape');
    await tui.waitFor('Records (2)');
    // Mail is first (starred): f unstars it.
    await tui.keys('Home', 'f');
    await tui.waitFor('unstarred "Mail"');
    await tui.waitFor(/Alpha[\s\S]*Mail/);
    const after = JSON.parse((await keeper(['show', 'Mail', '--json'], env)).stdout);
    expect(after.favourite).to.equal(false);
  });
});
