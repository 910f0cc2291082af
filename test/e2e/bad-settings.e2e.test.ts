import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { expectSentence, KEEPER, type Run } from '../support/cli.js';

/**
 * Settings that point somewhere unusable: each must end the command with one sentence naming the
 * setting and a documented exit code, quickly (never a hang, a stack, or a bare "Invalid URL").
 */
const SECONDS_ALLOWED = 20;

/** The real `keeper`, killed (and the test failed) if it has not finished in SECONDS_ALLOWED. */
function keeperWithin(args: string[], env: Record<string, string>): Promise<Run & { seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [KEEPER, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keeper ${args.join(' ')} did not finish within ${SECONDS_ALLOWED} s: ${stderr}`));
    }, SECONDS_ALLOWED * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** A server setting set, on a free port, with the given overrides. */
function serverEnv(dir: string, overrides: Record<string, string>): Record<string, string> {
  return { KEEPER_LISTEN: '127.0.0.1:0', KEEPER_DATA_DIR: join(dir, 'data'), KEEPER_LOG_LEVEL: 'warn', ...overrides };
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('settings that point somewhere unusable', function () {
  this.timeout(120_000);
  let dir: string;
  const proc = `/proc/keeper-${randomBytes(4).toString('hex')}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-bad-settings-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a data directory that cannot be made (under /proc, where a recursive mkdir used to spin forever)', async () => {
    const run = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATA_DIR: `${proc}/data` }));
    expectSentence(run, 2, new RegExp(`--data-dir / KEEPER_DATA_DIR ${proc}/data cannot be used: it cannot be created there`));
  });

  it('names a data directory whose path runs through a file', async () => {
    await writeFile(join(dir, 'a-file'), 'x');
    const run = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATA_DIR: join(dir, 'a-file', 'data') }));
    expectSentence(run, 2, /--data-dir \/ KEEPER_DATA_DIR .*a-file\/data cannot be used: it or a parent is a file, not a directory/);
  });

  it('names a blob directory that cannot be made', async () => {
    const run = await keeperWithin(['server'], serverEnv(dir, { KEEPER_BLOB_DIR: `${proc}/blobs` }));
    expectSentence(run, 2, new RegExp(`--blob-dir / KEEPER_BLOB_DIR ${proc}/blobs cannot be used`));
  });

  it('names a client home that cannot be made', async () => {
    const run = await keeperWithin(['ls'], { KEEPER_HOME: `${proc}/home`, KEEPER_SERVER: '127.0.0.1:9' });
    expectSentence(run, 2, new RegExp(`--home / KEEPER_HOME ${proc}/home cannot be used: it cannot be created there`));
  });

  it('names a database or NATS URL that is not a URL, without echoing its password', async () => {
    const database = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATABASE_URL: 'postgres://keeper:hunter2@127.0.0.1:99999/keeper' }));
    expectSentence(database, 2, /--database-url \/ KEEPER_DATABASE_URL: is not a valid URL/);
    expect(database.stderr).to.not.contain('hunter2');
    const nats = await keeperWithin(['server'], serverEnv(dir, { KEEPER_NATS_URL: 'nats://jobs host:4222' }));
    expectSentence(nats, 2, /--nats-url \/ KEEPER_NATS_URL: is not a valid URL/);
  });

  it('names a database that refuses connections (exit 6: it may just be down)', async () => {
    const probe = createServer();
    const port = await listening(probe);
    await new Promise((resolve) => probe.close(resolve));
    const run = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATABASE_URL: `postgres://keeper:hunter2@127.0.0.1:${port}/keeper` }));
    expectSentence(run, 6, new RegExp(`cannot connect to the database that --database-url / KEEPER_DATABASE_URL \\(PostgreSQL at 127.0.0.1:${port}/keeper\\) names: connection refused`));
    expect(run.stderr).to.not.contain('hunter2');
  });

  it('names a database URL that points at something that is not PostgreSQL', async () => {
    const notPostgres = createServer((socket) => socket.destroy());
    const port = await listening(notPostgres);
    try {
      const run = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATABASE_URL: `postgres://keeper@127.0.0.1:${port}/keeper` }));
      expectSentence(run, 6, /KEEPER_DATABASE_URL .* names: the server there closed the connection during the handshake \(is it PostgreSQL\?\)/);
    } finally {
      await new Promise((resolve) => notPostgres.close(resolve));
    }
  });

  describe('on a full disk', () => {
    let mount: string | undefined;
    before(async function () {
      const target = await mkdtemp(join(tmpdir(), 'keeper-full-'));
      try {
        // A small file system of its own (root only): the machine's disk is never filled.
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', target], { stdio: 'ignore' });
        mount = target;
      } catch {
        await rm(target, { recursive: true, force: true });
        this.skip();
      }
    });
    after(async () => {
      if (!mount) return;
      execFileSync('umount', [mount]);
      await rm(mount, { recursive: true, force: true });
    });

    it('names a data directory with too little room for the embedded database', async () => {
      const run = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATA_DIR: join(mount!, 'data') }));
      expectSentence(run, 1, /--data-dir \/ KEEPER_DATA_DIR .*\/data\/pglite cannot be used: no space left on the device/);
    });

    it('names a data directory, blob directory or client home on a disk with no room at all', async () => {
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${join(mount!, 'fill')} bs=4k 2>/dev/null || true`]);
      const data = await keeperWithin(['server'], serverEnv(dir, { KEEPER_DATA_DIR: join(mount!, 'data2') }));
      expectSentence(data, 1, /--data-dir \/ KEEPER_DATA_DIR .*\/data2 cannot be used: no space left on the device/);
      const blobs = await keeperWithin(['server'], serverEnv(dir, { KEEPER_BLOB_DIR: join(mount!, 'blobs') }));
      expectSentence(blobs, 1, /--blob-dir \/ KEEPER_BLOB_DIR .*\/blobs cannot be used: no space left on the device/);
      const home = await keeperWithin(['ls'], { KEEPER_HOME: join(mount!, 'home'), KEEPER_SERVER: '127.0.0.1:9' });
      expectSentence(home, 1, /--home \/ KEEPER_HOME .*\/home cannot be used: no space left on the device/);
    });
  });
});
