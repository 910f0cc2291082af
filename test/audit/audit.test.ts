import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { auditHistory, auditState, auditStats, auditVerify, parseAt } from '../../src/cli/audit-commands.js';
import { CliError } from '../../src/client/cli/exit-codes.js';
import type { VaultCommand } from '../../src/domain/commands.js';
import { streamIdForUser } from '../../src/domain/vault-state.js';
import { withAuditSnapshot } from '../../src/audit/audit-source.js';
import { Projector } from '../../src/projections/projector.js';
import { readSnapshot, type VaultSnapshot } from '../../src/read-model/read-model.js';
import { replayStream } from '../../src/audit/replay.js';
import { verifyReadModel } from '../../src/audit/verify.js';
import { UserStore } from '../../src/server/auth/users.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import type { Database } from '../../src/server/sql/database.js';
import { VaultService } from '../../src/server/vault/vault-service.js';
import { auditTargets, collector, settle, type AuditDatabases } from './support.js';

/** Values of sensitive fields: no audit output may ever contain one. */
const SECRETS = ['hunter2-secret', 'correct-horse-battery', '4111-1111-1111-1111', 'pin-0000-x', 'psk-secret-value', 'tampered-pin-value'];
const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
const MINUTE = 60_000;

function expectNoSecrets(text: string) {
  for (const secret of SECRETS) expect(text, `output shows the secret ${secret}`).to.not.contain(secret);
}

async function expectCliError(work: Promise<unknown>, exitCode: number, pattern: RegExp): Promise<CliError> {
  try {
    await work;
  } catch (error) {
    expect(error).to.be.instanceOf(CliError);
    expect((error as CliError).exitCode, (error as Error).message).to.equal(exitCode);
    expect((error as Error).message).to.match(pattern);
    return error as CliError;
  }
  expect.fail('expected a CliError');
}

const byCreation = (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);

for (const target of auditTargets) {
  describe(`keeper audit (${target.name})`, function () {
    this.timeout(60_000);
    let dbs: AuditDatabases;
    let db: Database;
    let store: SqlEventStore;
    let vault: VaultService;
    let projector: Projector;
    let now = T0;
    let alice: string;
    let bob: string;
    const ids = { mail: randomUUID(), bank: randomUUID(), diary: randomUUID(), wifi: randomUUID() };
    /** The read-model snapshot a client listing alice's vault saw at each version. */
    const seen = new Map<number, VaultSnapshot>();
    /** When each of alice's versions was appended. */
    const times = new Map<number, number>();
    let staleMutation: string;

    async function push(userId: string, expectedVersion: number, commands: VaultCommand[], clientId = 'laptop-1') {
      const outcome = await vault.push(userId, { expectedVersion, clientId, commands });
      if (outcome.kind === 'accepted') {
        for (let v = expectedVersion + 1; v <= outcome.version; v++) if (userId === alice) times.set(v, now);
        await settle(db, projector, [alice, bob]);
        if (userId === alice) seen.set(outcome.version, await readSnapshot(db, alice));
      }
      now += 10 * MINUTE;
      return outcome;
    }

    before(async function () {
      dbs = await target.open();
      db = dbs.db;
      store = new SqlEventStore(db);
      vault = new VaultService(db, store, () => now);
      projector = new Projector(db, store);
      const users = new UserStore(db);
      alice = await users.create('alice', 'not-a-real-hash');
      bob = await users.create('Bob', 'not-a-real-hash');
      seen.set(0, await readSnapshot(db, alice));

      const m = () => randomUUID();
      // v1: a login record
      await push(alice, 0, [
        {
          type: 'CreateRecord', mutationId: m(), recordId: ids.mail, kind: 'login', name: 'Mail',
          fields: [{ name: 'user', value: 'alice@example.org', sensitive: false }, { name: 'password', value: 'hunter2-secret', sensitive: true }],
        },
      ]);
      // v2: renamed, new password, a URL added
      await push(alice, 1, [
        {
          type: 'UpdateRecord', mutationId: m(), recordId: ids.mail, name: 'Email',
          setFields: [{ name: 'password', value: 'correct-horse-battery', sensitive: true }, { name: 'url', value: 'https://mail.example.org', sensitive: false }],
          removeFields: [],
        },
      ]);
      // v3, v4: two records in one push from another device
      await push(
        alice,
        2,
        [
          {
            type: 'CreateRecord', mutationId: m(), recordId: ids.bank, kind: 'card', name: 'Bank',
            fields: [{ name: 'number', value: '4111-1111-1111-1111', sensitive: true }, { name: 'holder', value: 'Alice', sensitive: false }],
          },
          { type: 'CreateRecord', mutationId: m(), recordId: ids.diary, kind: 'note', name: 'Diary', fields: [{ name: 'text', value: 'dear diary', sensitive: false }] },
        ],
        'phone-2',
      );
      // v5: the login is deleted
      await push(alice, 4, [{ type: 'DeleteRecord', mutationId: m(), recordId: ids.mail }]);
      // A device that last saw version 4 pushes: conflict, then the same mutation again at 5 (v6).
      staleMutation = m();
      const edit: VaultCommand = { type: 'UpdateRecord', mutationId: staleMutation, recordId: ids.bank, setFields: [{ name: 'holder', value: 'A. Smith', sensitive: false }], removeFields: [] };
      const conflict = await push(alice, 4, [edit], 'phone-2');
      expect(conflict).to.deep.equal({ kind: 'conflict', currentVersion: 5 });
      expect((await push(alice, 5, [edit], 'phone-2')).kind).to.equal('accepted');
      // v7, v8: kind change, field removed, sensitive field added; the diary edited
      await push(alice, 6, [
        { type: 'UpdateRecord', mutationId: m(), recordId: ids.bank, kind: 'custom', setFields: [{ name: 'pin', value: 'pin-0000-x', sensitive: true }], removeFields: ['holder'] },
        { type: 'UpdateRecord', mutationId: m(), recordId: ids.diary, setFields: [{ name: 'text', value: 'second entry', sensitive: false }], removeFields: [] },
      ]);
      // v9: the deleted login brought back as it was at version 1
      await push(alice, 8, [
        {
          type: 'RestoreRecord', mutationId: m(), recordId: ids.mail, kind: 'login', name: 'Mail', fromVersion: 1,
          fields: [{ name: 'user', value: 'alice@example.org', sensitive: false }, { name: 'password', value: 'hunter2-secret', sensitive: true }],
        },
      ]);
      await push(bob, 0, [{ type: 'CreateRecord', mutationId: m(), recordId: ids.wifi, kind: 'custom', name: 'Wifi', fields: [{ name: 'psk', value: 'psk-secret-value', sensitive: true }] }]);
    });

    after(async () => {
      await dbs?.close();
    });

    it('rebuilds the state at every version exactly as the read model showed it then', async () => {
      expect([...seen.keys()].sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 4, 5, 6, 8, 9]);
      await withAuditSnapshot(dbs.audit, async (source) => {
        for (const [version, snapshot] of seen) {
          const state = await replayStream(source.store, streamIdForUser(alice), { streamVersion: 9, until: { version }, pageSize: 2 });
          expect(state.version).to.equal(snapshot.version);
          expect(state.lastModifiedAt).to.equal(snapshot.lastModifiedAt);
          expect(state.live().sort(byCreation), `records at version ${version}`).to.deep.equal([...snapshot.records].sort(byCreation));
        }
      });
    });

    it('state --at VERSION prints the records of that version, sensitive values masked', async () => {
      const json = collector();
      await auditState(dbs.audit, { user: 'ALICE', at: '5', json: true }, json);
      const state = JSON.parse(json.text());
      expect(state.version).to.equal(5);
      expect(state.records.map((r: { name: string }) => r.name)).to.have.members(['Bank', 'Diary']);
      expect(state.deleted.map((r: { name: string }) => r.name)).to.deep.equal(['Email']);
      expect(state.records.find((r: { name: string }) => r.name === 'Bank').fields).to.deep.equal([
        { name: 'number', sensitive: true, masked: 'sensitive' },
        { name: 'holder', sensitive: false, value: 'Alice' },
      ]);
      const table = collector();
      await auditState(dbs.audit, { user: 'alice', at: '9' }, table);
      expect(table.text()).to.match(/alice \(.*\) at version 9, last change .*: 3 records, 0 deleted/);
      expect(table.text()).to.contain('number (sensitive)');
      expect(table.text()).to.contain('user="alice@example.org", password (sensitive)');
      expectNoSecrets(json.text() + table.text());
    });

    it('state --at TIME replays up to the last event at or before that time', async () => {
      const at = async (when: string) => {
        const out = collector();
        await auditState(dbs.audit, { user: 'alice', at: when, json: true }, out);
        return JSON.parse(out.text()) as { version: number; records: Array<{ name: string }> };
      };
      expect((await at(new Date(times.get(4)! + MINUTE).toISOString())).version).to.equal(4);
      expect((await at(new Date(times.get(2)!).toISOString())).version).to.equal(2);
      expect((await at(new Date(T0 - 1).toISOString())).version).to.equal(0);
      expect((await at('2026-01-10')).records).to.deep.equal([]);
      expect((await at('2999-01-01T00:00:00Z')).version).to.equal(9);
    });

    it('refuses a bad --at, a version past the log, and an unknown user', async () => {
      expect(parseAt('12')).to.deep.equal({ version: 12 });
      expect(parseAt('2026-01-10T09:30:00+01:00')).to.deep.equal({ time: Date.UTC(2026, 0, 10, 8, 30) });
      for (const bad of ['yesterday', '-1', '1.5', '2026-13-45', '10:00']) {
        await expectCliError(auditState(dbs.audit, { user: 'alice', at: bad }, collector()), 2, /--at .* is neither a version/);
      }
      await expectCliError(auditState(dbs.audit, { user: 'alice', at: '10' }, collector()), 2, /--at 10 is past the end of alice's log, which has 9 events/);
      await expectCliError(auditState(dbs.audit, { user: 'mallory', at: '1' }, collector()), 4, /there is no user "mallory"/);
      await expectCliError(auditHistory(dbs.audit, { user: 'mallory' }, collector()), 4, /there is no user/);
      await expectCliError(auditVerify(dbs.audit, { user: 'mallory' }, collector()), 4, /there is no user/);
    });

    it('history --json lists every event with the fields it changed, never a sensitive value', async () => {
      const out = collector();
      await auditHistory(dbs.audit, { user: 'alice', json: true }, out);
      expectNoSecrets(out.text());
      const history = JSON.parse(out.text());
      expect(history.user).to.deep.equal({ id: alice, login: 'alice' });
      expect(history.version).to.equal(9);
      const events = history.events as Array<Record<string, any>>;
      expect(events.map((e) => [e.version, e.type, e.recordId])).to.deep.equal([
        [1, 'RecordCreated', ids.mail],
        [2, 'RecordUpdated', ids.mail],
        [3, 'RecordCreated', ids.bank],
        [4, 'RecordCreated', ids.diary],
        [5, 'RecordDeleted', ids.mail],
        [6, 'RecordUpdated', ids.bank],
        [7, 'RecordUpdated', ids.bank],
        [8, 'RecordUpdated', ids.diary],
        [9, 'RecordRestored', ids.mail],
      ]);
      expect(events[0]!.changes).to.deep.equal([
        { what: 'name', to: 'Mail' },
        { what: 'kind', to: 'login' },
        { what: 'field', field: 'user', change: 'added', sensitive: false, to: { value: 'alice@example.org' } },
        { what: 'field', field: 'password', change: 'added', sensitive: true, to: { masked: 'sensitive' } },
      ]);
      expect(events[1]!.changes).to.deep.equal([
        { what: 'name', from: 'Mail', to: 'Email' },
        { what: 'field', field: 'password', change: 'changed', sensitive: true, from: { masked: 'sensitive' }, to: { masked: 'sensitive' } },
        { what: 'field', field: 'url', change: 'added', sensitive: false, to: { value: 'https://mail.example.org' } },
      ]);
      expect(events[4]!.changes).to.deep.equal([{ what: 'deleted' }]);
      expect(events[4]!.recordName).to.equal('Email');
      // The conflicting push left no event; its retry is version 6, with the same mutation id.
      expect(events[5]).to.include({ mutationId: staleMutation, clientId: 'phone-2', at: new Date(times.get(6)!).toISOString() });
      expect(events[5]!.changes).to.deep.equal([
        { what: 'field', field: 'holder', change: 'changed', sensitive: false, from: { value: 'Alice' }, to: { value: 'A. Smith' } },
      ]);
      expect(events[6]!.changes).to.deep.equal([
        { what: 'kind', from: 'card', to: 'custom' },
        { what: 'field', field: 'holder', change: 'removed', sensitive: false },
        { what: 'field', field: 'pin', change: 'added', sensitive: true, to: { masked: 'sensitive' } },
      ]);
      expect(events[8]!.changes).to.deep.equal([
        { what: 'restored', fromVersion: 1, undeleted: true },
        { what: 'name', from: 'Email', to: 'Mail' },
        { what: 'field', field: 'url', change: 'removed', sensitive: false },
        { what: 'field', field: 'password', change: 'changed', sensitive: true, from: { masked: 'sensitive' }, to: { masked: 'sensitive' } },
      ]);
    });

    it('history --record (id or prefix) shows only that record; the table too hides sensitive values', async () => {
      const json = collector();
      await auditHistory(dbs.audit, { user: 'alice', record: ids.bank, json: true }, json);
      expect(JSON.parse(json.text()).events.map((e: { version: number }) => e.version)).to.deep.equal([3, 6, 7]);
      const table = collector();
      await auditHistory(dbs.audit, { user: 'alice', record: ids.bank.slice(0, 8) }, table);
      expect(table.lines[0]).to.equal(`history of alice (${alice}): 9 events, record ${ids.bank} only`);
      expect(table.lines[1]).to.match(/^VERSION\s+TIME\s+TYPE\s+RECORD\s+MUTATION\s+CLIENT\s+CHANGES$/);
      expect(table.lines.slice(2)).to.have.length(3);
      expect(table.lines[2]).to.contain('name "Bank", kind card, +number (sensitive), +holder="Alice"');
      expect(table.lines[3]).to.contain(`${staleMutation.slice(0, 8)}  phone-2`);
      expect(table.lines[3]).to.contain('~holder "Alice" -> "A. Smith"');
      expect(table.lines[4]).to.contain('kind card -> custom, -holder, +pin (sensitive)');
      expectNoSecrets(table.text());
      const all = collector();
      await auditHistory(dbs.audit, { user: 'alice' }, all);
      expectNoSecrets(all.text());
      expect(all.text()).to.contain('restored from version 1 (undeleted), name "Email" -> "Mail", -url, ~password (sensitive)');

      await expectCliError(auditHistory(dbs.audit, { user: 'alice', record: randomUUID() }, collector()), 4, /user alice has no record .* in the log/);
      await expectCliError(auditHistory(dbs.audit, { user: 'alice', record: 'not an id' }, collector()), 2, /is not a record id/);
      await expectCliError(auditHistory(dbs.audit, { user: 'alice', record: ids.wifi }, collector()), 4, /no record/);
    });

    it('verify agrees with a caught-up read model', async () => {
      const out = collector();
      await auditVerify(dbs.audit, {}, out);
      expect(out.text()).to.equal('the read model agrees with the log: 2 users, 10 events replayed');
      const json = collector();
      await auditVerify(dbs.audit, { user: 'bob', json: true, strict: true }, json);
      expect(JSON.parse(json.text())).to.deep.include({ agrees: true, users: 1, events: 1, differences: [], lag: [] });
    });

    async function differences(): Promise<Array<Record<string, unknown>>> {
      const out = collector();
      const error = await expectCliError(auditVerify(dbs.audit, { json: true }, out), 1, /the read model differs from the log in \d+ place/);
      const report = JSON.parse(out.text());
      expect(report.agrees).to.equal(false);
      expect(error.message).to.contain(`${report.differences.length} place`);
      const text = collector();
      await auditVerify(dbs.audit, {}, text).catch(() => {});
      expectNoSecrets(out.text() + text.text());
      return report.differences;
    }

    async function repair() {
      await projector.rebuild();
      await settle(db, projector, [alice, bob]);
      await auditVerify(dbs.audit, {}, collector());
    }

    it('verify finds a hand-edited column, naming user, record, column, expected and found', async () => {
      await db.query(`UPDATE rm_records SET name = 'tampered' WHERE record_id = $1`, [ids.bank]);
      expect(await differences()).to.deep.equal([
        { userId: alice, login: 'alice', recordId: ids.bank, column: 'name', expected: '"Bank"', found: '"tampered"' },
      ]);
      const text = collector();
      await expectCliError(auditVerify(dbs.audit, { user: 'alice' }, text), 1, /differs from the log in 1 place$/);
      expect(text.lines[0]).to.equal(`DIFF user alice: record ${ids.bank} name: expected "Bank", found "tampered"`);
      await repair();
    });

    it('verify masks a hand-edited sensitive value and finds a changed deletion', async () => {
      await db.query(`UPDATE rm_records SET fields = jsonb_set(fields, '{1,value}', '"tampered-pin-value"'::jsonb) WHERE record_id = $1`, [ids.mail]);
      await db.query(`UPDATE rm_records SET deleted_at = $2 WHERE record_id = $1`, [ids.diary, new Date(T0)]);
      expect(await differences()).to.have.deep.members([
        { userId: alice, login: 'alice', recordId: ids.mail, column: 'fields.password', expected: '(sensitive)', found: '(sensitive, a different value)' },
        { userId: alice, login: 'alice', recordId: ids.diary, column: 'deleted_at', expected: 'null', found: new Date(T0).toISOString() },
      ]);
      await repair();
    });

    it('verify finds a missing row, an extra row and a wrong user version', async () => {
      await db.query(`DELETE FROM rm_records WHERE record_id = $1`, [ids.diary]);
      const stranger = randomUUID();
      await db.query(
        `INSERT INTO rm_records (user_id, record_id, kind, name, fields, created_at, updated_at, version, deleted_at)
         VALUES ($1, $2, 'note', 'Planted', '[]'::jsonb, now(), now(), 1, NULL)`,
        [bob, stranger],
      );
      await db.query(`UPDATE rm_user_versions SET version = 3 WHERE user_id = $1`, [alice]);
      const found = await differences();
      expect(found).to.have.deep.members([
        { userId: alice, login: 'alice', column: 'rm_user_versions.version', expected: '9', found: '3' },
        { userId: alice, login: 'alice', recordId: ids.diary, column: 'row', expected: 'present ("Diary", version 8)', found: 'missing' },
        { userId: bob, login: 'Bob', recordId: stranger, column: 'row', expected: 'absent (no such record in the log)', found: 'present ("Planted", version 1)' },
      ]);
      await repair();
    });

    it('verify reports a read model behind the log as lag, not as a difference (and --strict fails on it)', async () => {
      await vault.push(bob, { expectedVersion: 1, clientId: 'tv', commands: [{ type: 'UpdateRecord', mutationId: randomUUID(), recordId: ids.wifi, name: 'Home wifi', setFields: [], removeFields: [] }] });
      await vault.push(bob, { expectedVersion: 2, clientId: 'tv', commands: [{ type: 'DeleteRecord', mutationId: randomUUID(), recordId: ids.wifi }] });
      const out = collector();
      await auditVerify(dbs.audit, {}, out);
      expect(out.lines).to.deep.equal([
        'the read model agrees with the log: 2 users, 10 events replayed',
        'the read model is behind the log by 2 events for 1 user (not projected yet, so not compared; a projector that is running catches up):',
        '  Bob: read model at version 1, log at 3',
      ]);
      const json = collector();
      await expectCliError(auditVerify(dbs.audit, { json: true, strict: true }, json), 1, /2 events behind the log \(--strict/);
      expect(JSON.parse(json.text()).lag).to.deep.equal([{ userId: bob, login: 'Bob', projectedVersion: 1, logVersion: 3, behind: 2 }]);

      const stats = collector();
      await auditStats(dbs.audit, { json: true }, stats);
      const figures = JSON.parse(stats.text());
      expect(figures).to.deep.include({ users: 2, usersWithoutEvents: 0, events: 12, readModelUsersBehind: 1, eventsWithoutCheckpoint: null });
      expect(figures.eventsByType).to.deep.equal({ RecordCreated: 4, RecordDeleted: 2, RecordRestored: 1, RecordUpdated: 5 });
      expect(figures.streamLengths).to.deep.equal({ streams: 2, min: 3, median: 6, max: 9 });
      expect(figures.checkpoints).to.have.length(1);
      expect(figures.checkpoints[0]).to.include({ projection: 'vault-records', eventsBehind: 2 });

      await settle(db, projector, [alice, bob]);
      const caughtUp = collector();
      await auditStats(dbs.audit, {}, caughtUp);
      expect(caughtUp.lines[0]).to.equal('users         2 (0 without events)');
      expect(caughtUp.lines[1]).to.equal('events        12 (RecordCreated 4, RecordDeleted 2, RecordRestored 1, RecordUpdated 5)');
      expect(caughtUp.lines[2]).to.equal('streams       2; length min 3, median 6, max 9');
      expect(caughtUp.lines[3]).to.match(/^checkpoint    vault-records at \d+\/\d+, updated .*; 0 events in the log after it$/);
      expect(caughtUp.lines[4]).to.equal('read model    0 users behind the log');
      await auditVerify(dbs.audit, { strict: true }, collector());
    });

    it('every audit query runs in a read-only transaction: a write through it fails', async () => {
      let failure: unknown;
      try {
        await withAuditSnapshot(dbs.audit, (source) => source.query(`UPDATE rm_records SET name = 'written by the audit'`));
      } catch (error) {
        failure = error;
      }
      expect((failure as { code?: string } | undefined)?.code, String(failure)).to.equal('25006');
      expect((await db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM rm_records WHERE name = 'written by the audit'`))[0]!.n).to.equal(0);
    });

    if (target.name === 'PostgreSQL') {
      it("the audit's own PostgreSQL connection refuses writes even outside the audit's transactions", async () => {
        for (const attempt of [
          () => dbs.audit.query(`INSERT INTO users (user_id, login, password_hash) VALUES ($1, 'eve', 'x')`, [randomUUID()]),
          () => dbs.audit.transaction((tx) => tx.query(`DELETE FROM rm_records`)),
          () => dbs.audit.query(`CREATE TABLE audit_was_here (id integer)`),
        ]) {
          let failure: unknown;
          try {
            await attempt();
          } catch (error) {
            failure = error;
          }
          expect((failure as { code?: string } | undefined)?.code, String(failure)).to.equal('25006');
        }
        expect((await dbs.audit.query<{ ro: string }>(`SELECT current_setting('default_transaction_read_only') AS ro`))[0]!.ro).to.equal('on');
      });
    }

    it('an event the domain cannot read is reported by verify and refused by history with a sentence', async () => {
      const carol = await new UserStore(db).create('carol', 'not-a-real-hash');
      for (let v = 0; v < 3; v++) {
        await vault.push(carol, { expectedVersion: v, clientId: 'x', commands: [{ type: 'CreateRecord', mutationId: randomUUID(), recordId: randomUUID(), kind: 'note', name: `n${v}`, fields: [] }] });
      }
      await settle(db, projector, [alice, bob, carol]);
      await db.query(`UPDATE events SET data = jsonb_set(data, '{recordId}', '"not-a-uuid"') WHERE stream_id = $1 AND version = 2`, [streamIdForUser(carol)]);
      const report = await withAuditSnapshot(dbs.audit, (source) => verifyReadModel(source, { userId: carol }));
      expect(report.differences).to.have.length(1);
      expect(report.differences[0]).to.include({ column: 'log', expected: 'a readable event 2' });
      expect(report.differences[0]!.found).to.match(/event 2 of stream user-.* cannot be read: recordId: must be a UUID/);
      await expectCliError(auditHistory(dbs.audit, { user: 'carol' }, collector()), 1, /event 2 of stream .* cannot be read/);
    });
  });
}
