import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget, type DatabaseTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';
import type { Database, SqlExecutor } from '../../src/server/sql/database.js';

/** What node-postgres raises when pg_terminate_backend cuts a connection. */
function terminated(): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
}

/**
 * The server's database, with faults on demand: every statement fails while `down`, and the next
 * `failAppends` appends to the event log fail, as a cut connection would make them.
 */
class FaultyDatabase {
  down = false;
  failAppends = 0;
  failedAppends = 0;

  constructor(private readonly inner: Database) {}

  wrap(): Database {
    const check = (text: string) => {
      if (this.down) throw terminated();
      if (this.failAppends > 0 && /INSERT INTO events/.test(text)) {
        this.failAppends--;
        this.failedAppends++;
        throw terminated();
      }
    };
    const inner = this.inner;
    return {
      kind: inner.kind,
      async query(text, params, options) {
        check(text);
        return inner.query(text, params, options);
      },
      async transaction(fn, options) {
        return inner.transaction(
          (tx) =>
            fn({
              async query(text, params, queryOptions) {
                check(text);
                return tx.query(text, params, queryOptions);
              },
            } as SqlExecutor),
          options,
        );
      },
      exec: (script) => inner.exec(script),
      close: () => inner.close(),
    } as Database;
  }
}

describe('database faults as the CLI sees them', function () {
  this.timeout(120_000);
  let faults: FaultyDatabase;
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  before(async () => {
    const target: DatabaseTarget = {
      name: 'PGlite with faults',
      async open() {
        faults = new FaultyDatabase(await pgliteTarget.open());
        return faults.wrap();
      },
      dispose: () => faults.wrap().close(),
    };
    server = await startTestServer(target);
    home = await mkdtemp(join(tmpdir(), 'keeper-cli-faults-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    const registered = await keeper(['register', '--login', 'faulty'], env, 'correct horse battery\n');
    expect(registered.code, registered.stderr).to.equal(0);
  });
  after(async () => {
    faults.down = false;
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('says the server is unavailable for a moment (exit 6), not that it failed, while its database is unreachable', async () => {
    faults.down = true;
    try {
      const run = await keeper(['sync'], env);
      expectSentence(run, 6, /the Keeper server at .* is unavailable for a moment \(the server (lost its database connection for a moment|cannot check sessions right now); retrying (the call )?is safe\); nothing was lost/);
      expect(run.stderr).to.not.match(/server failed|internal/);
      expect((await keeper(['status'], env)).stdout).to.match(/server .* \(unavailable for a moment\)/);

      const added = await keeper(['add', 'Offline note', '--field', 'text=kept'], env);
      expect(added.code, added.stderr).to.equal(0);
      expect(added.stderr).to.match(/offline \(the server at .* is unavailable for a moment\).*1 change\(s\) waiting/);
      expect(added.stdout).to.contain('saved locally');
    } finally {
      faults.down = false;
    }
    const synced = await keeper(['sync'], env);
    expect(synced.code, synced.stderr).to.equal(0);
    expect((await keeper(['ls'], env)).stdout).to.contain('Offline note');
  });

  it('retries a push the database dropped, so the change lands once without the user doing anything', async () => {
    faults.failAppends = 2;
    faults.failedAppends = 0;
    const added = await keeper(['add', 'Retried note', '--field', 'text=once'], env);
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stderr).to.equal('');
    expect(added.stdout).to.match(/^added [0-9a-f-]+ \(Retried note\)\n$/);
    expect(faults.failedAppends).to.equal(2);
    const status = await keeper(['status'], env);
    expect(status.stdout).to.match(/0 change\(s\) waiting/);
    const listed = await keeper(['ls', '--json'], env);
    expect((JSON.parse(listed.stdout) as { records: Array<{ name: string }> }).records.filter((record) => record.name === 'Retried note')).to.have.length(1);
  });
});
