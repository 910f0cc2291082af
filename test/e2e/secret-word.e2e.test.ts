import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

const PASSWORD = 'correct horse battery';
const WORD = 'amber quarry lantern';
const NEXT = 'violet harbour kettle 1987';

/** The secret word's strength rule at the CLI, and change-secret asking for the current word once. */
describe('keeper encrypt and change-secret: the secret word rule', function () {
  this.timeout(120_000);
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    home = await mkdtemp(join(tmpdir(), 'keeper-secret-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    expect((await keeper(['register', '--login', 'quinn'], env, `${PASSWORD}\n`)).code).to.equal(0);
    expect((await keeper(['add', 'Router', '--secret', 'password=admin123'], env)).code).to.equal(0);
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('encrypt refuses a short or easily guessed word with a sentence and exit 2, changing nothing', async () => {
    expectSentence(await keeper(['encrypt'], env, 'short\n'), 2, /the secret word is too short \(5 characters\): use at least 10/);
    expectSentence(await keeper(['encrypt'], env, 'moon river\n'), 2, /the secret word is too easy to guess: add more words that are less common/);
    expectSentence(await keeper(['encrypt'], env, 'password123\n'), 2, /the secret word is too easy to guess \(this is a commonly used password\)/);
    expect((await keeper(['status'], env)).stdout).to.match(/encryption off/);
    const encrypted = await keeper(['encrypt'], env, `${WORD}\n`);
    expect(encrypted.code, encrypted.stderr).to.equal(0);
    expect(encrypted.stdout).to.contain('encryption is on');
  });

  it('change-secret reads the current word once from a pipe, and refuses a weak new one', async () => {
    expectSentence(await keeper(['change-secret'], env, `${WORD}\na\n`), 2, /the secret word is too short \(1 character\)/);
    expectSentence(await keeper(['change-secret'], env, `not the word\n${NEXT}\n`), 3, /the secret word is wrong/);
    const changed = await keeper(['change-secret'], env, `${WORD}\n${NEXT}\n`);
    expect(changed.code, changed.stderr).to.equal(0);
    expect(changed.stdout).to.contain('secret word changed');
    const shown = await keeper(['show', 'Router', '--reveal'], env, `${NEXT}\n`);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/password +admin123/);
    expectSentence(await keeper(['show', 'Router', '--reveal'], env, `${WORD}\n`), 3, /the secret word is wrong/);
  });
});
