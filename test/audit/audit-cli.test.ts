import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openAuditDatabase, readOnlyUrl } from '../../src/cli/audit-database.js';
import { CliError } from '../../src/client/cli/exit-codes.js';
import { progressReporter } from '../../src/lib/progress.js';
import { Projector } from '../../src/projections/projector.js';
import { openDatabase } from '../../src/composition/server-app.js';
import { UserStore } from '../../src/server/auth/users.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { VaultService } from '../../src/server/vault/vault-service.js';
import { expectSentence, keeper } from '../support/cli.js';


describe('keeper audit on the command line (embedded database in a data dir)', function () {
  this.timeout(120_000);
  let dir: string;
  let recordId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-audit-'));
    const db = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    try {
      const store = new SqlEventStore(db);
      const alice = await new UserStore(db).create('alice', 'not-a-real-hash');
      recordId = randomUUID();
      const vault = new VaultService(db, store);
      await vault.push(alice, {
        expectedVersion: 0,
        clientId: 'cli-test',
        commands: [{ type: 'CreateRecord', mutationId: randomUUID(), recordId, kind: 'login', name: 'Router', fields: [{ name: 'password', value: 'admin-secret-123', sensitive: true }] }],
      });
      await vault.push(alice, {
        expectedVersion: 1,
        clientId: 'cli-test',
        commands: [{ type: 'UpdateRecord', mutationId: randomUUID(), recordId, setFields: [{ name: 'ip', value: '192.168.0.1', sensitive: false }], removeFields: [] }],
      });
      await new Projector(db, store).catchUp();
    } finally {
      await db.close();
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies and prints history, never a sensitive value', async () => {
    const verified = await keeper(['audit', 'verify', '--data-dir', dir]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(verified.stdout).to.equal('the read model agrees with the log: 1 user, 2 events replayed\n');
    // Piped output: no progress bar on stderr.
    expect(verified.stderr).to.equal('');

    const history = await keeper(['audit', 'history', '--user', 'alice', '--json', '--data-dir', dir]);
    expect(history.code, history.stderr).to.equal(0);
    const events = JSON.parse(history.stdout).events;
    expect(events.map((e: { type: string }) => e.type)).to.deep.equal(['RecordCreated', 'RecordUpdated']);
    expect(events[1].changes).to.deep.equal([{ what: 'field', field: 'ip', change: 'added', sensitive: false, to: { value: '192.168.0.1' } }]);
    expect(history.stdout).to.not.contain('admin-secret-123');
  });

  it('answers bad arguments with a sentence and an exit code', async () => {
    const noUser = await keeper(['audit', 'history', '--data-dir', dir]);
    expect(noUser.code).to.equal(2);
    expect(noUser.stderr).to.contain("required option '--user <login>' not specified");

    expectSentence(await keeper(['audit', 'state', '--user', 'alice', '--at', 'yesterday', '--data-dir', dir]), 2, /--at "yesterday" is neither a version \(a whole number\) nor an ISO 8601 time/);
    expectSentence(await keeper(['audit', 'history', '--user', 'nobody', '--data-dir', dir]), 4, /there is no user "nobody"/);
  });

  it('refuses the embedded database while a server holds it, saying to stop the server', async () => {
    const db = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    try {
      expectSentence(await keeper(['audit', 'stats', '--data-dir', dir]), 1, /in use by process \d+ .*the audit reads the embedded database only while the server is stopped/);
    } finally {
      await db.close();
    }
  });

  it('opens the embedded database read-only: a write through its connection fails', async () => {
    const db = await openAuditDatabase({ dataDir: dir, databaseUrl: undefined });
    try {
      for (const attempt of [
        () => db.query(`INSERT INTO users (user_id, login, password_hash) VALUES ($1, 'eve', 'x')`, [randomUUID()]),
        () => db.transaction((tx) => tx.query(`DELETE FROM rm_records`)),
      ]) {
        let failure: unknown;
        try {
          await attempt();
        } catch (error) {
          failure = error;
        }
        expect((failure as { code?: string } | undefined)?.code, String(failure)).to.equal('25006');
      }
    } finally {
      await db.close();
    }
  });

  it('says when there is no embedded database, and never creates one', async () => {
    const empty = join(dir, 'nothing-here');
    try {
      await openAuditDatabase({ dataDir: empty, databaseUrl: undefined });
      expect.fail('opened a database that does not exist');
    } catch (error) {
      expect(error).to.be.instanceOf(CliError);
      expect((error as CliError).exitCode).to.equal(4);
      expect((error as Error).message).to.match(/there is no embedded database at .*nothing-here/);
    }
  });
});

describe('audit helpers', () => {
  it('adds default_transaction_read_only to the connection options, keeping those the URL has', () => {
    expect(new URL(readOnlyUrl('postgres://u:p@db:5432/keeper')).searchParams.get('options')).to.equal('-c default_transaction_read_only=on');
    const withPath = new URL(readOnlyUrl('postgres://u@db/keeper?sslmode=disable&options=-c%20search_path%3Dvault'));
    expect(withPath.searchParams.get('options')).to.equal('-c search_path=vault -c default_transaction_read_only=on');
    expect(withPath.searchParams.get('sslmode')).to.equal('disable');
    expect(withPath.username).to.equal('u');
  });

  it('draws a progress bar with rate and ETA on a terminal, and nothing when piped', async () => {
    const written: string[] = [];
    const fake = (isTTY: boolean) => ({ isTTY, write: (text: string) => written.push(text) }) as unknown as NodeJS.WriteStream;
    const piped = progressReporter('replaying', 'events', fake(false), 1000);
    piped.add(10);
    piped.done();
    expect(written).to.deep.equal([]);

    const terminal = progressReporter('replaying', 'events', fake(true), 1000);
    await new Promise((resolve) => setTimeout(resolve, 550));
    terminal.add(250);
    expect(written).to.have.length(1);
    expect(written[0]).to.match(/^\rreplaying \[######-{18}\]  25% 250\/1,000 events, \d[\d,]* events\/s, ETA \d+ s\x1b\[K$/);
    terminal.done();
    expect(written[1]).to.match(/100%|25%/);
    expect(written[1]!.endsWith('\n')).to.equal(true);
  });
});
