import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { expect } from 'chai';
import { pgliteTarget, postgresTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, KEEPER, keeper } from '../support/cli.js';


describe('keeper CLI against a running server', function () {
  this.timeout(120_000);
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    home = await mkdtemp(join(tmpdir(), 'keeper-cli-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('runs a whole session: register, add, list, show, edit, delete, status, logout', async () => {
    const notYet = await keeper(['ls'], env);
    expectSentence(notYet, 3, /not logged in/);

    const registered = await keeper(['register', '--login', 'carol'], env, 'correct horse battery\n');
    expect(registered.code, registered.stderr).to.equal(0);
    expect(registered.stdout).to.contain('registered and logged in as carol');

    const added = await keeper(['add', 'Bank', '--kind', 'login', '--field', 'user=carol', '--secret', 'pin=1234=5'], env);
    expect(added.code, added.stderr).to.equal(0);
    const id = /added ([0-9a-f-]{36})/.exec(added.stdout)![1]!;
    await server.projected();

    const listed = await keeper(['ls'], env);
    expect(listed.stdout).to.match(new RegExp(`${id.slice(0, 8)}\\s+login\\s+Bank`));
    expect(listed.stdout).to.contain('1 record, version 1');

    const shown = await keeper(['show', 'bank'], env);
    expect(shown.stdout).to.contain('user  carol');
    expect(shown.stdout).to.contain('pin   ********');
    expect(shown.stdout).to.not.contain('1234=5');
    const revealed = await keeper(['show', id.slice(0, 6), '--reveal', '--json'], env);
    expect(JSON.parse(revealed.stdout).fields).to.deep.equal([
      { name: 'user', value: 'carol', sensitive: false },
      { name: 'pin', value: '1234=5', sensitive: true },
    ]);

    const edited = await keeper(['edit', 'Bank', '--name', 'Savings', '--remove', 'user', '--field', 'iban=DE00'], env);
    expect(edited.code, edited.stderr).to.equal(0);
    await server.projected();
    const afterEdit = JSON.parse((await keeper(['show', id, '--json'], env)).stdout);
    expect(afterEdit.name).to.equal('Savings');
    expect(afterEdit.fields.map((f: { name: string }) => f.name)).to.deep.equal(['pin', 'iban']);

    const status = await keeper(['status'], env);
    expect(status.stdout).to.match(/version\s+2/);
    expect(status.stdout).to.match(/user\s+carol/);

    expect((await keeper(['rm', 'savings'], env)).code).to.equal(0);
    await server.projected();
    expect((await keeper(['ls'], env)).stdout).to.contain('no records (version 3)');

    expect((await keeper(['logout'], env)).stdout).to.contain('logged out');
    expectSentence(await keeper(['status'], env), 3, /not logged in/);
  });

  it('answers bad input with a sentence and an exit code', async () => {
    const login = await keeper(['register', '--login', 'dave'], env, 'correct horse battery\n');
    expect(login.code, login.stderr).to.equal(0);

    expectSentence(await keeper(['show', 'nothing-here'], env), 4, /no record matches "nothing-here"/);
    expectSentence(await keeper(['add', 'X', '--kind', 'spaceship'], env), 2, /--kind spaceship: must be one of/);
    expectSentence(await keeper(['add', 'X', '--field', 'novalue'], env), 2, /--field novalue: write it as name=value/);
    expectSentence(await keeper(['add', 'n'.repeat(300)], env), 2, /name: must be at most 200 characters/);
    expectSentence(await keeper(['edit', 'whatever', '--name', 'x'], env), 4, /no record matches/);
    expectSentence(await keeper(['edit', 'whatever'], env), 2, /nothing to change/);
    expectSentence(await keeper(['ls'], { ...env, KEEPER_SERVER: 'not an address' }), 2, /KEEPER_SERVER .*must be host:port/);
    expectSentence(await keeper(['ls'], { ...env, KEEPER_TIMEOUT_MS: 'soon' }), 2, /KEEPER_TIMEOUT_MS.*must be a number/);
    expectSentence(await keeper(['login', '--login', 'dave'], env, 'wrong password\n'), 3, /login or password is wrong/);
    expectSentence(await keeper(['login', '--login', 'dave'], env), 2, /password is needed/);
    expectSentence(await keeper(['register', '--login', 'dave'], env, 'correct horse battery\n'), 5, /taken|exists/);

    const unknownFlag = await keeper(['ls', '--bogus'], env);
    expect(unknownFlag.code).to.equal(2);
    expect(unknownFlag.stderr).to.contain("unknown option '--bogus'");
  });

  it('searches, shows history, restores, encrypts, and unlocks with KEEPER_SESSION', async () => {
    const home2 = await mkdtemp(join(tmpdir(), 'keeper-cli-'));
    const env2 = { KEEPER_SERVER: server.address, KEEPER_HOME: home2 };
    try {
      expect((await keeper(['register', '--login', 'heidi'], env2, 'correct horse battery\n')).code).to.equal(0);
      const added = await keeper(['add', 'Router', '--kind', 'login', '--field', 'url=http://192.168.0.1', '--secret', 'password=admin123'], env2);
      const id = /added ([0-9a-f-]{36})/.exec(added.stdout)![1]!;
      expect((await keeper(['edit', id, '--name', 'Home router'], env2)).code).to.equal(0);

      const found = await keeper(['search', '168.0'], env2);
      expect(found.stdout).to.match(/Home router\s+field url/);
      expect(found.stdout).to.contain('1 match');

      const history = await keeper(['history', id.slice(0, 8)], env2);
      expect(history.stdout).to.match(/1\s+\S+ \S+\s+created .*Router/);
      expect(history.stdout).to.match(/2\s+\S+ \S+\s+updated .*Home router/);
      expect(history.stdout).to.contain('password=********');
      expect((await keeper(['restore', id, '--version', '1'], env2)).stdout).to.contain('as it was at version 1');
      expect((await keeper(['show', id], env2)).stdout).to.contain('Router  (login)');

      const encrypted = await keeper(['encrypt'], env2, 'moon river lantern\n');
      expect(encrypted.code, encrypted.stderr).to.equal(0);
      expect(encrypted.stdout).to.contain('encryption is on: 1 record(s) re-written sealed');
      const wrong = await keeper(['show', id, '--reveal'], env2, 'not the word\n');
      expectSentence(wrong, 3, /the secret word is wrong; nothing was changed/);
      const right = await keeper(['show', id, '--reveal'], env2, 'moon river lantern\n');
      expect(right.stdout).to.contain('password  admin123');

      const unlocked = await keeper(['unlock'], env2, 'moon river lantern\n');
      const secret = /KEEPER_SESSION="([^"]+)"/.exec(unlocked.stdout)![1]!;
      // With the session set, no secret word is needed (nothing on stdin).
      expect((await keeper(['show', id, '--reveal'], { ...env2, KEEPER_SESSION: secret })).stdout).to.contain('password  admin123');
      expect((await keeper(['lock'], env2)).stdout).to.contain('vault locked');
      expectSentence(await keeper(['show', id], { ...env2, KEEPER_SESSION: secret }), 2, /secret word is needed/);
    } finally {
      await rm(home2, { recursive: true, force: true });
    }
  });

  it('says when the server cannot be reached', async () => {
    const other = await mkdtemp(join(tmpdir(), 'keeper-cli-'));
    try {
      // A session for a server that is gone: the call fails to connect, not to authenticate.
      const down = { KEEPER_SERVER: '127.0.0.1:9', KEEPER_HOME: other, KEEPER_TIMEOUT_MS: '3000' };
      expectSentence(await keeper(['register', '--login', 'erin'], down, 'correct horse battery\n'), 6, /cannot reach the Keeper server at 127.0.0.1:9/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('a server that cannot listen says so in one sentence and exits, leaving nothing running', async () => {
    const data = await mkdtemp(join(tmpdir(), 'keeper-cli-'));
    try {
      // The test server holds this address. Without a clean stop, the projector and the image job
      // relay started before the listen would keep the process alive.
      const run = await keeper(['server', '--listen', server.address, '--data-dir', data], {});
      expectSentence(run, 1, new RegExp(`cannot listen on ${server.address}: the address is already in use`));
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});

function waitForOutput(child: ChildProcess, pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got: ${text}`)), 60_000);
    child[stream]!.on('data', (chunk) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    });
    child.on('close', (code) => reject(new Error(`exited with ${code} before ${pattern}: ${text}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

describe('keeper up (embedded system)', function () {
  this.timeout(120_000);

  it('starts on PGlite under ./.keeper, serves the CLI, keeps data across a restart, and stops on Ctrl-C', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keeper-up-'));
    const env = { KEEPER_HOME: join(dir, 'home') };
    // One port for both runs: the client keeps its session per server address.
    const port = await freePort();
    const start = () =>
      spawn(process.execPath, [KEEPER, 'up', '--listen', `127.0.0.1:${port}`], { cwd: dir, env: { PATH: process.env.PATH ?? '', KEEPER_AGENT_LISTEN: '127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let up: ChildProcess | undefined;
    try {
      up = start();
      const banner = await waitForOutput(up, /(gRPC server[\s\S]*HTTP agent\s+http:\/\/\S+)/);
      let address = /gRPC server\s+(\S+)/.exec(banner)![1]!;
      expect(address).to.match(/^127\.0\.0\.1:\d+$/);
      // The HTTP agent runs inside `keeper up` too, over the same server.
      const agent = /HTTP agent\s+(http:\/\/\S+)/.exec(banner)![1]!;
      const login = await fetch(`${agent}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'nobody-here', password: 'wrong password' }) });
      expect(login.status).to.equal(401);
      const registered = await keeper(['register', '--login', 'frank'], { ...env, KEEPER_SERVER: address }, 'correct horse battery\n');
      expect(registered.code, registered.stderr).to.equal(0);
      expect((await keeper(['add', 'Diary', '--kind', 'note'], { ...env, KEEPER_SERVER: address })).code).to.equal(0);

      // A second system on the same data dir is refused with a sentence.
      const second = await keeper(['up', '--listen', '127.0.0.1:0'], { ...env }, '', dir);
      expectSentence(second, 1, /the embedded database at .* is in use by process \d+/);

      let stopped = exited(up);
      up.kill('SIGINT');
      expect(await stopped).to.equal(0);

      up = start();
      address = await waitForOutput(up, /gRPC server\s+(\S+)/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The token key lives in the data dir, so the session survives the restart.
      const listed = await keeper(['ls'], { ...env, KEEPER_SERVER: address });
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout).to.contain('Diary');
      stopped = exited(up);
      up.kill('SIGINT');
      expect(await stopped).to.equal(0);
      up = undefined;
    } finally {
      up?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

if (postgresTarget) {
  describe('keeper server and keeper projector on real PostgreSQL', function () {
    this.timeout(120_000);

    it('runs the server and an external projector as separate processes, and rebuilds the read model', async () => {
      const url = process.env.KEEPER_DATABASE_URL!;
      const schema = `keeper_cli_${Date.now()}`;
      const databaseUrl = `${url}${url.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`;
      const home = await mkdtemp(join(tmpdir(), 'keeper-pg-'));
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const serverEnv = { KEEPER_DATABASE_URL: databaseUrl, KEEPER_PROJECTOR: 'external', KEEPER_LOG_LEVEL: 'warn', KEEPER_DATA_DIR: join(home, 'data') };
      const serverProcess = spawn(process.execPath, [KEEPER, 'server', '--listen', '127.0.0.1:0'], { env: { PATH: process.env.PATH ?? '', ...serverEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let projector: ChildProcess | undefined;
      try {
        const address = await waitForOutput(serverProcess, /"address":"([^"]+)"/, 'stderr');
        const env = { KEEPER_SERVER: address, KEEPER_HOME: home };
        expect((await keeper(['register', '--login', 'grace'], env, 'correct horse battery\n')).code).to.equal(0);
        expect((await keeper(['add', 'Router', '--kind', 'login', '--secret', 'password=admin123'], env)).code).to.equal(0);
        // The client reads its replica (snapshot + the log's tail), so it sees the record before
        // any projector ran; the read model itself is still empty.
        expect((await keeper(['ls'], env)).stdout).to.contain('Router');
        expect((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.rm_records`)).rows[0].n).to.equal(0);

        projector = spawn(process.execPath, [KEEPER, 'projector'], { env: { PATH: process.env.PATH ?? '', ...serverEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
        await waitForOutput(projector, /keeper projector started/, 'stderr');
        let projected = 0;
        for (let i = 0; i < 100 && projected === 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          projected = (await admin.query(`SELECT count(*)::int AS n FROM ${schema}.rm_records WHERE name = 'Router'`)).rows[0].n;
        }
        expect(projected).to.equal(1);
        projector.kill('SIGTERM');
        expect(await exited(projector)).to.equal(0);
        projector = undefined;

        await admin.query(`UPDATE ${schema}.rm_records SET name = 'tampered'`);
        const rebuilt = await keeper(['projector', '--rebuild'], serverEnv);
        expect(rebuilt.code, rebuilt.stderr).to.equal(0);
        expect(rebuilt.stdout).to.contain('read model rebuilt from 1 events');
        expect((await admin.query(`SELECT name FROM ${schema}.rm_records`)).rows).to.deep.equal([{ name: 'Router' }]);
      } finally {
        projector?.kill('SIGKILL');
        serverProcess.kill('SIGTERM');
        await exited(serverProcess);
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
        await rm(home, { recursive: true, force: true });
      }
    });
  });
}
