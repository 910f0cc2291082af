import { join } from 'node:path';
import { expect } from 'chai';
import { textWidth } from '../../src/client/tui/kit/text.js';
import { keeper } from '../support/cli.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer } from '../support/server.js';
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

  it('at 50x12 keeps names, long values and messages readable and Esc clears the filter; offline says where the local copy is; help aligns at 120x40', async () => {
    // A server of its own, to be stopped for the offline start.
    const own = await startTestServer(pgliteTarget);
    let stopped = false;
    const env = { KEEPER_SERVER: own.address, KEEPER_HOME: join(suite.dir, 'sky'), HOME: suite.dir };
    try {
      expect((await keeper(['register', '--login', 'sky'], env, `${PASSWORD}\n`)).code).to.equal(0);
      expect((await keeper(['add', 'Household insurance', '--secret', `policy=HX-${'a1b2c3d4e5'.repeat(4)}`], env)).code).to.equal(0);
      expect((await keeper(['add', 'Bank account', '--field', 'user=sky'], env)).code).to.equal(0);
      const small = await suite.open('sky-small', env, ['--sync-every', '600'], { width: 50, height: 12 });
      let screen = await small.waitFor(/Records \(2\)[\s\S]*online/);
      expect(screen).to.contain('Household ins');
      expectRowsIntact(screen, 50);

      // The empty filter's hint says Esc clears the filter: one Esc does.
      await small.keys('/');
      await small.type('zzz');
      await small.waitFor('Nothing matches');
      await small.keys('Escape');
      screen = await small.waitFor(/Records \(2\)[\s\S]*Household ins/);
      expect(screen).to.contain('/ to filter');

      // A revealed value long enough to fill its last line keeps its "(sensitive)".
      await small.keys('Down', 'Enter', 'r');
      screen = await small.waitFor('a1b2c3d4e5');
      expect(screen).to.contain('(sensitive)');
      expectRowsIntact(screen, 50);
      await small.keys('Escape', 'q');
      expect(await small.exitStatus()).to.equal(0);

      await own.close();
      stopped = true;
      const large = await suite.open('sky-large', env, ['--sync-every', '600'], { width: 120, height: 40 });
      screen = await large.waitFor('offline, local copy at version 2');
      expect(screen).to.not.contain('not synced yet');
      await large.waitFor('changes stay here and are pushed when it is back');
      await large.keys('?');
      screen = await large.waitFor('Filter box');
      const rows = screen.split('\n');
      const first = rows.find((row) => row.includes('Up/Down j/k'))!;
      const typing = rows.find((row) => row.includes('typing'))!;
      // Where the second column starts on a row: after the first column's text and two spaces or more.
      const secondColumn = (row: string, left: string) => {
        const gap = new RegExp(`${left}( {2,})\\S`).exec(row);
        return gap ? gap.index + left.length + gap[1]!.length : -1;
      };
      expect(secondColumn(typing, 'narrows the list')).to.be.greaterThan(0);
      expect(secondColumn(typing, 'narrows the list')).to.equal(secondColumn(first, 'choose a record'));
      await large.keys('Escape');

      // Down to 50x12: the offline message wraps instead of being cut.
      await large.resize(50, 12);
      screen = await large.waitFor(/offline, local v2/);
      const bottom = screen.replace(/\n$/, '').split('\n');
      const lastBorder = Math.max(...bottom.map((row, i) => (row.startsWith('└') ? i : -1)));
      const message = bottom.slice(lastBorder + 1, -1).join(' ').replace(/\s+/g, ' ');
      expect(message).to.contain('changes stay here and are pushed when it is back');
      await large.keys('q');
      expect(await large.exitStatus()).to.equal(0);
    } finally {
      if (!stopped) await own.close();
    }
  });
});
