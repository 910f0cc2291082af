import { join } from 'node:path';
import { expect } from 'chai';
import { TOTP } from 'otpauth';
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

  it('shows the open record\'s one-time code live, counting down; C-g in the form makes a password and its strength is told', async () => {
    // Mail holds the one-time-code field added above; open it by filtering to it.
    await tui.keys('/');
    await tui.type('Mail');
    await tui.keys('Enter');
    const first = await tui.waitFor(/otp +\d{3} \d{3}  \((\d+) s\) \(one-time code\)/);
    const seconds = Number(/otp +\d{3} \d{3}  \((\d+) s\)/.exec(first)![1]);
    const shown = /otp +(\d{3}) (\d{3})/.exec(first)!;
    const totp = new TOTP({ secret: 'JBSWY3DPEHPK3PXP' });
    expect([totp.generate({ timestamp: Date.now() - 2000 }), totp.generate({ timestamp: Date.now() })]).to.include(`${shown[1]}${shown[2]}`);
    expect(first).to.not.contain('JBSWY3DPEHPK3PXP');
    // A second or two later the count has moved without a key pressed.
    await tui.waitFor(new RegExp(`otp +\\d{3} \\d{3}  \\((?!${seconds} s)\\d+ s\\)`), 5_000);
    await tui.keys('Escape');

    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Shop');
    await tui.keys('Down', 'Down', 'Down', 'C-g');
    await tui.waitFor('password: a new random password, 129 bits of entropy');
    await tui.keys('C-s');
    await tui.waitFor('No value in:');
    await tui.keys('y');
    await tui.waitFor(/added "Shop"; strength of password: very strong \(4\/4\)/);
    const saved = JSON.parse((await keeper(['show', 'Shop', '--json', '--reveal'], env)).stdout);
    expect(saved.fields.find((f: { name: string }) => f.name === 'password').value).to.have.length(20);
  });

  it('copies over OSC 52 when no clipboard tool exists (the 30-second blanking is in test/tui/osc52.test.ts)', async () => {
    await tui.tmuxCommand('set-option', '-g', 'set-clipboard', 'on');
    await tui.keys('/');
    await tui.type('Shop');
    await tui.keys('Enter');
    await tui.waitFor(/Records \(1 of 3\)/);
    await tui.keys('Enter');
    await tui.waitFor('Up/Down field');
    // The password is the second field of a login.
    await tui.keys('Down', 'c');
    await tui.waitFor('copied "password" to the clipboard through the terminal (OSC 52)');
    const saved = JSON.parse((await keeper(['show', 'Shop', '--json', '--reveal'], env)).stdout);
    const password = saved.fields.find((f: { name: string }) => f.name === 'password').value;
    expect(await tui.pasteBuffer()).to.equal(password);
    // The screen never shows what went to the clipboard.
    expect(await tui.screen()).to.not.contain(password);
    await tui.keys('Escape', '/', 'C-u', 'Escape');
  });

  it('searches inside sensitive values only after C-t in the filter box; C-j breaks a line in a note', async () => {
    await tui.waitFor('Records (3)');
    await tui.keys('/');
    // JBSW... is Mail's one-time-code secret: sensitive, so not matched until asked.
    await tui.type('JBSWY3DP');
    await tui.waitFor('Nothing matches "JBSWY3DP"');
    await tui.keys('C-t');
    await tui.waitFor(/Records \(1 of 3, sensitive values too\)/);
    await tui.keys('C-t', 'Escape');
    await tui.waitFor('Records (3)');

    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Diary');
    await tui.keys('Tab', 'Right', 'Right');
    await tui.waitFor(/note/);
    await tui.keys('Tab');
    await tui.type('first line');
    await tui.keys('C-j');
    await tui.type('second line');
    await tui.waitFor('first line↵second line');
    await tui.keys('C-s');
    await tui.waitFor('added "Diary"');
    const saved = JSON.parse((await keeper(['show', 'Diary', '--json'], env)).stdout);
    expect(saved.fields[0]).to.deep.include({ name: 'text', value: 'first line\nsecond line' });
    // The open record shows the note on its two lines.
    const screen = await tui.waitFor(/text +first line[^\n]*\n[^\n]*│ +second line/);
    expect(screen).to.not.contain('↵');
  });
});
