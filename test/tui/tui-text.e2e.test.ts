import { join } from 'node:path';
import { expect } from 'chai';
import { textWidth } from '../../src/client/tui/text.js';
import { keeper } from '../support/cli.js';
import { tmuxSuite } from './tmux.js';

const PASSWORD = 'correct horse battery';

/** Every row of a captured screen that ends in a box border must be exactly the terminal's width. */
function expectRowsIntact(screen: string, width: number): void {
  for (const row of screen.replace(/\n$/, '').split('\n')) {
    if (/[│┐┘]$/.test(row)) expect(textWidth(row), `the row ${JSON.stringify(row)}`).to.equal(width);
  }
}

/** Text that is wider or narrower than its characters (CJK, emoji, combining marks) and small or large terminals. */
describe('keeper tui text in a terminal (tmux)', function () {
  this.timeout(120_000);
  const suite = tmuxSuite('keeper-tui-text-');

  it('draws CJK, emoji and combining marks in their real columns, and leaves nothing behind when the record changes', async () => {
    const env = { KEEPER_SERVER: suite.server.address, KEEPER_HOME: join(suite.dir, 'ren'), HOME: suite.dir };
    expect((await keeper(['register', '--login', 'ren'], env, `${PASSWORD}\n`)).code).to.equal(0);
    const added = await keeper(
      ['add', '東京銀行 Tokyo', '--kind', 'login', '--field', 'user=ren', '--secret', 'password=p🔑ss🚀w0rd', '--field', 'note=cafe\u0301 👍🏽 ok', '--field', 'kin=👨\u200d👩\u200d👧 🇩🇪 ❤\ufe0f'],
      env,
    );
    expect(added.code, added.stderr).to.equal(0);
    expect((await keeper(['add', 'Plain', '--kind', 'login', '--field', 'user=x'], env)).code).to.equal(0);
    const tui = await suite.open('ren', env, ['--sync-every', '600']);
    let screen = await tui.waitFor(/Records \(2\)[\s\S]*● online/);
    expect(screen).to.contain('東京銀行 Tokyo');
    expectRowsIntact(screen, 80);

    await tui.keys('Down', 'Enter', 'r');
    screen = await tui.waitFor('password  p🔑ss🚀w0rd (sensitive)');
    // Joined emoji are drawn as their parts, which every terminal draws equally wide.
    expect(screen).to.contain('note      cafe\u0301 👍 ok');
    expect(screen).to.contain('kin       👨👩👧 🇩🇪 ❤');
    expectRowsIntact(screen, 80);
    await tui.keys('r');
    screen = await tui.waitFor('password  ******** (sensitive)');
    expectRowsIntact(screen, 80);

    // Another record: nothing of the first stays on screen.
    await tui.keys('Escape', 'r', 'Up');
    screen = await tui.waitFor(/│Plain +│/);
    const detail = screen.split('\n').slice(1, 22).map((row) => row.slice(row.indexOf('│', 2)));
    expect(detail.join('\n')).to.not.match(/🔑|🚀|sensitive|w0rd|\)/);
    expectRowsIntact(screen, 80);

    // A CJK name in the form: the cursor and the boxes stay in their columns.
    await tui.keys('Down', 'e');
    screen = await tui.waitFor('Edit "東京銀行 Tokyo"');
    expectRowsIntact(screen, 80);
    await tui.keys('Escape');
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });
});
