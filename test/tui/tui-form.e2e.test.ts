import { join } from 'node:path';
import { expect } from 'chai';
import { keeper } from '../support/cli.js';
import { tmuxSuite, type Pane } from './tmux.js';

const PASSWORD = 'correct horse battery';

interface ShownRecord {
  kind: string;
  name: string;
  fields: Array<{ name: string; value: string; sensitive: boolean }>;
}

/**
 * The record form in a real terminal: what the user types lands in the box they see focused and
 * is saved, for every kind's template, by Tab and by the arrows; nothing is dropped without asking.
 */
describe('keeper tui record form in a terminal (tmux, 80x24)', function () {
  this.timeout(120_000);
  const suite = tmuxSuite('keeper-tui-form-');
  let env: Record<string, string>;
  let tui: Pane;

  before(async () => {
    const { server, dir } = suite;
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: join(dir, 'olga'), HOME: dir };
    expect((await keeper(['register', '--login', 'olga'], env, `${PASSWORD}\n`)).code).to.equal(0);
    tui = await suite.open('olga', env, ['--sync-every', '600']);
    await tui.waitFor(/Records \(0\)[\s\S]*● online/);
  });

  async function saved(name: string): Promise<ShownRecord> {
    const shown = await keeper(['show', name, '--json', '--reveal'], env);
    expect(shown.code, shown.stderr).to.equal(0);
    return JSON.parse(shown.stdout) as ShownRecord;
  }

  const fields = (record: ShownRecord) => record.fields.map((f) => [f.name, f.value, f.sensitive]);

  it('login: Tab from Kind reaches the user value, Down the password (masked while typed); an empty url is asked about', async () => {
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Bank');
    await tui.keys('Tab', 'Tab');
    await tui.type('X');
    await tui.keys('Down');
    await tui.type('Yy9!');
    let screen = await tui.waitFor(/password +\*{4} +sensitive/);
    expect(screen).to.not.contain('Yy9!');
    // The template's field names stay as they were.
    expect(screen).to.match(/user +X/);
    await tui.keys('C-s');
    screen = await tui.waitFor('No value in: url.');
    await tui.keys('y');
    await tui.waitFor('added "Bank"');
    expect(fields(await saved('Bank'))).to.deep.equal([
      ['user', 'X', false],
      ['password', 'Yy9!', true],
    ]);
  });

  it('card: Right picks the kind, Tab goes value to value; an empty field is kept when asked to', async () => {
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Visa');
    await tui.keys('Tab', 'Right');
    await tui.waitFor(/number +│?/);
    await tui.keys('Tab');
    await tui.type('4111');
    await tui.keys('Tab');
    await tui.type('Olga');
    await tui.keys('Tab', 'Tab');
    await tui.type('321');
    // Back up to the expiry with S-Tab, then leave it empty.
    await tui.keys('BTab');
    const screen = await tui.waitFor(/number +\*{4} +sensitive/);
    expect(screen).to.match(/cvv +\*{3} +sensitive/);
    expect(screen).to.not.contain('4111');
    await tui.keys('C-s');
    await tui.waitFor('No value in: expires.');
    await tui.keys('k');
    await tui.waitFor('added "Visa"');
    const card = await saved('Visa');
    expect(card.kind).to.equal('card');
    expect(fields(card)).to.deep.equal([
      ['number', '4111', true],
      ['holder', 'Olga', false],
      ['expires', '', false],
      ['cvv', '321', true],
    ]);
  });

  it('note: one Tab past the kind reaches the text; saved without a question', async () => {
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Shopping');
    await tui.keys('Tab', 'Right', 'Right', 'Tab');
    await tui.type('milk');
    await tui.keys('C-s');
    await tui.waitFor('added "Shopping"');
    const note = await saved('Shopping');
    expect(note.kind).to.equal('note');
    expect(fields(note)).to.deep.equal([['text', 'milk', false]]);
  });

  it('custom: the field without a name takes its name first; F2 renames a template field; arrows keep the order', async () => {
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Locker');
    await tui.keys('Tab', 'Left', 'Tab');
    await tui.type('pin');
    await tui.keys('Tab');
    await tui.type('1234');
    await tui.keys('C-s');
    await tui.waitFor('added "Locker"');
    expect(fields(await saved('Locker'))).to.deep.equal([['pin', '1234', false]]);

    // A login whose user field is renamed with F2; Up from the password goes back to the user value.
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Forum');
    await tui.keys('Down', 'Down', 'Down');
    await tui.type('pw');
    await tui.keys('Up');
    await tui.type('olga');
    await tui.keys('F2', 'C-u');
    await tui.type('email');
    await tui.keys('Tab');
    await tui.type('@x');
    await tui.keys('Down', 'Down');
    await tui.type('https://forum');
    await tui.keys('C-s');
    await tui.waitFor('added "Forum"');
    expect(fields(await saved('Forum'))).to.deep.equal([
      ['email', 'olga@x', false],
      ['password', 'pw', true],
      ['url', 'https://forum', false],
    ]);
  });

  it('a record with only a name asks about its empty template fields, and Esc goes back to the form', async () => {
    await tui.keys('n');
    await tui.waitFor('New record');
    await tui.type('Mail');
    await tui.keys('C-s');
    await tui.waitFor('No value in: user, password, url.');
    await tui.keys('Escape');
    await tui.waitFor(/New record[\s\S]*C-s save/);
    await tui.keys('Tab', 'Tab');
    await tui.type('me');
    await tui.keys('C-s');
    await tui.waitFor('No value in: password, url.');
    await tui.keys('y');
    await tui.waitFor('added "Mail"');
    expect(fields(await saved('Mail'))).to.deep.equal([['user', 'me', false]]);
    await tui.keys('q');
    expect(await tui.exitStatus()).to.equal(0);
  });
});
