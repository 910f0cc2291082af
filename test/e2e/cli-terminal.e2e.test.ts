import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { openDatabase } from '../../src/composition/server-app.js';
import { UserStore } from '../../src/server/auth/users.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { Projector } from '../../src/projections/projector.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { keeper, type Run } from '../support/cli.js';

// Text written on another device: a colour change, a title change (OSC ... BEL), a C1 CSI that
// clears the screen on terminals that read 8-bit controls, a lone carriage return and a newline.
const HOSTILE_NAME = 'Evil \u001b[31mRED\u001b[0m \u001b]0;pwned\u0007 \u009b2J\rend';
const HOSTILE_VALUE = 'v\u001b[2J\u0085x\ny\u0007';
const HOSTILE_FILE = 'pic\u001b[5m\u009b1;1H.png';

/** Anything a terminal may act on instead of drawing; only the program's own line breaks may remain. */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function expectNoControls(run: Run, what: string): void {
  expect(TERMINAL_CONTROL.test(run.stdout), `${what}: stdout ${JSON.stringify(run.stdout)}`).to.equal(false);
  expect(TERMINAL_CONTROL.test(run.stderr), `${what}: stderr ${JSON.stringify(run.stderr)}`).to.equal(false);
}

describe('keeper CLI output is safe for a terminal', function () {
  this.timeout(180_000);
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;
  let recordId: string;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    home = await mkdtemp(join(tmpdir(), 'keeper-cli-tty-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    expect((await keeper(['register', '--login', 'mallory'], env, 'correct horse battery\n')).code).to.equal(0);
    // Sealed on the client, the server cannot look inside: whatever it refuses in the clear,
    // a sealed name or value can hold any character, so the client must make it safe itself.
    const encrypted = await keeper(['encrypt', '--all'], env, 'violet harbour gramophone 1977\n');
    expect(encrypted.code, encrypted.stderr).to.equal(0);
    const unlocked = await keeper(['unlock'], env, 'violet harbour gramophone 1977\n');
    env.KEEPER_SESSION = /KEEPER_SESSION="([^"]+)"/.exec(unlocked.stdout)![1]!;
    const added = await keeper(['add', HOSTILE_NAME, '--kind', 'note', '--field', `text=${HOSTILE_VALUE}`, '--secret', `pin=${HOSTILE_VALUE}`, '--seal-all'], env);
    expect(added.code, added.stderr).to.equal(0);
    recordId = /added ([0-9a-f-]{36})/.exec(added.stdout)![1]!;
    expectNoControls(added, 'add');
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('escapes record names and values in ls, show, search and history, and keeps --json exact', async () => {
    const id = recordId.slice(0, 8);
    for (const args of [['ls'], ['show', id, '--reveal'], ['search', 'RED'], ['history', id, '--reveal']]) {
      const run = await keeper(args, env);
      expect(run.code, run.stderr).to.equal(0);
      expectNoControls(run, args.join(' '));
      // The escaped text is still recognisable: its printable parts are kept in order.
      if (args[0] === 'ls') expect(run.stdout).to.contain('Evil ?[31mRED?[0m ?]0;pwned? ?2J↵end');
      if (args[0] === 'show') expect(run.stdout).to.contain('v?[2J?x↵y?');
    }

    const listed = await keeper(['ls', '--json'], env);
    expectNoControls(listed, 'ls --json');
    expect(JSON.parse(listed.stdout).records[0].name).to.equal(HOSTILE_NAME);
    const shown = await keeper(['show', id, '--reveal', '--json'], env);
    expectNoControls(shown, 'show --json');
    const record = JSON.parse(shown.stdout);
    expect(record.name).to.equal(HOSTILE_NAME);
    expect(record.fields.map((f: { value: string }) => f.value)).to.deep.equal([HOSTILE_VALUE, HOSTILE_VALUE]);
    const found = await keeper(['search', 'Evil', '--json'], env);
    expectNoControls(found, 'search --json');
    expect(JSON.parse(found.stdout).hits[0].name).to.equal(HOSTILE_NAME);
    const history = await keeper(['history', id, '--reveal', '--json'], env);
    expectNoControls(history, 'history --json');
    expect(JSON.parse(history.stdout).at(-1).name).to.equal(HOSTILE_NAME);
  });

  it('escapes image file names in image add and image ls, and keeps --json exact', async () => {
    const work = await mkdtemp(join(tmpdir(), 'keeper-cli-tty-img-'));
    try {
      const file = join(work, 'plain.png');
      await writeFile(file, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } }).png().toBuffer());
      const attached = await keeper(['image', 'add', recordId.slice(0, 8), file, '--name', HOSTILE_FILE], env);
      expect(attached.code, attached.stderr).to.equal(0);
      expectNoControls(attached, 'image add');
      for (const args of [['image', 'ls'], ['image', 'ls', recordId]]) {
        const run = await keeper(args, env);
        expect(run.code, run.stderr).to.equal(0);
        expectNoControls(run, args.join(' '));
        expect(run.stdout).to.contain('pic?[5m?1;1H.png');
      }
      const json = await keeper(['image', 'ls', '--json'], env);
      expectNoControls(json, 'image ls --json');
      expect(JSON.parse(json.stdout)[0].fileName).to.equal(HOSTILE_FILE);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('escapes what an error message repeats', async () => {
    const run = await keeper(['show', HOSTILE_NAME.replace('Evil', 'Nobody')], env);
    expect(run.code).to.equal(4);
    expectNoControls(run, 'show of an unknown record');
    expect(run.stderr).to.match(/^keeper: no record matches "Nobody \?\[31mRED/);
    expect(run.stderr.trim().split('\n')).to.have.length(1);
  });
});

describe('keeper audit output is safe for a terminal', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-audit-tty-'));
    const db = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    try {
      // Written straight into the log, as an older server (or another writer) may have stored it.
      const userId = await new UserStore(db).create('mallory', 'not-a-real-hash');
      const store = new SqlEventStore(db);
      const recordId = randomUUID();
      const metadata = { mutationId: randomUUID(), recordId, clientId: 'cli-\u001b]0;x\u0007', at: Date.now() };
      await store.append(streamIdForUser(userId), 0, [
        { id: metadata.mutationId, type: 'RecordCreated', data: { recordId, kind: 'note', name: HOSTILE_NAME, fields: [{ name: 'text', value: HOSTILE_VALUE, sensitive: false }] }, metadata },
      ]);
      await new Projector(db, store).catchUp();
    } finally {
      await db.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('escapes names, values and client ids in history and state, and keeps --json exact', async () => {
    for (const args of [['audit', 'history', '--user', 'mallory'], ['audit', 'state', '--user', 'mallory', '--at', '1']]) {
      const run = await keeper([...args, '--data-dir', dir]);
      expect(run.code, run.stderr).to.equal(0);
      expectNoControls(run, args.join(' '));
    }
    const history = await keeper(['audit', 'history', '--user', 'mallory', '--json', '--data-dir', dir]);
    expectNoControls(history, 'audit history --json');
    expect(JSON.parse(history.stdout).events[0].clientId).to.equal('cli-\u001b]0;x\u0007');
    const state = await keeper(['audit', 'state', '--user', 'mallory', '--at', '1', '--json', '--data-dir', dir]);
    expectNoControls(state, 'audit state --json');
    expect(JSON.stringify(JSON.parse(state.stdout))).to.contain(JSON.stringify(HOSTILE_NAME).slice(1, -1));
  });
});
