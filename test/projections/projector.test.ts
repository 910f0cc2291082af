import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import {
  DomainError,
  VaultState,
  decide,
  streamIdForUser,
  toVaultEvent,
  type Field,
  type RecordKind,
  type RecordCommand,
} from '../../src/domain/index.js';
import { Projector } from '../../src/projections/projector.js';
import { readRecordStates, readSnapshot, type VaultSnapshot } from '../../src/read-model/read-model.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import type { NewEvent } from '../../src/server/eventstore/port.js';
import type { Database } from '../../src/server/sql/database.js';
import { databaseTargets } from '../support/databases.js';
import { seededRandom } from '../../src/lib/seeded-random.js';

/**
 * The projector against every database target. One database per target (opening one is slow);
 * every test writes users of its own and compares the read model with a fold of the users'
 * streams by the domain (VaultState), so tests that replay the whole log still check only what
 * they know. On a shared PostgreSQL another transaction in the cluster can hold the log back for
 * a moment, so "caught up" is awaited against the stream versions, with a deadline.
 */

const SETTLE_MS = 15_000;

const KINDS: RecordKind[] = ['login', 'card', 'note', 'custom'];
const FIELD_NAMES = ['username', 'password', 'url', 'totp', 'notes', 'pin', 'number', 'expiry', 'cvv', 'email'];

/**
 * A user of the vault: commands are decided by the domain against the user's own fold, and the
 * resulting events are appended to `user-<id>` with the metadata the server writes.
 */
class SimUser {
  readonly id = randomUUID();
  readonly stream = streamIdForUser(this.id);
  /** What this test appended (the fold the projector must reproduce). */
  readonly state = new VaultState();
  private readonly random: () => number;
  private clock: number;
  private readonly clientId: string;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.clock = Date.UTC(2024, 0, 1) + Math.floor(this.random() * 1e9);
    this.clientId = `device-${seed}`;
  }

  /** Decides, appends and folds `count` random but valid commands, in appends of 1..maxPerAppend events. */
  async act(store: SqlEventStore, count: number, maxPerAppend = 3): Promise<number> {
    let done = 0;
    while (done < count) {
      const size = Math.min(count - done, 1 + Math.floor(this.random() * maxPerAppend));
      const local = new VaultState();
      // decide against a scratch copy that includes the events of this append that came before
      for (const record of this.state.records.values()) local.records.set(record.id, record);
      local.version = this.state.version;
      const batch: NewEvent[] = [];
      while (batch.length < size) {
        const command = this.nextCommand(local);
        let decided;
        try {
          decided = decide(command, local.get(command.recordId));
        } catch (error) {
          if (error instanceof DomainError) continue;
          throw error;
        }
        this.clock += 1 + Math.floor(this.random() * 5000);
        const metadata = { mutationId: command.mutationId, recordId: command.recordId, clientId: this.clientId, at: this.clock };
        const newEvent: NewEvent = { id: command.mutationId, type: decided.type, data: decided.data, metadata };
        local.apply(toVaultEvent({ ...newEvent, version: local.version + 1 }));
        batch.push(newEvent);
      }
      const result = await store.append(this.stream, this.state.version, batch);
      expect(result).to.deep.equal({ nextVersion: this.state.version + batch.length, duplicate: false });
      done += batch.length;
      // the expected fold is made from what the store gives back, not from what was sent
      const stored = await store.readStream(this.stream, this.state.version + 1, batch.length);
      this.state.applyAll(stored.map((event) => toVaultEvent(event)));
    }
    expect(this.state.version).to.equal((await store.streamInfo(this.stream)).version);
    return count;
  }

  async create(store: SqlEventStore, name: string, fields: Field[], kind: RecordKind = 'login'): Promise<string> {
    const recordId = randomUUID();
    await this.run(store, { type: 'CreateRecord', mutationId: randomUUID(), recordId, kind, name, fields });
    return recordId;
  }

  async run(store: SqlEventStore, command: RecordCommand): Promise<void> {
    const decided = decide(command, this.state.get(command.recordId));
    this.clock += 1000;
    const metadata = { mutationId: command.mutationId, recordId: command.recordId, clientId: this.clientId, at: this.clock };
    await store.append(this.stream, this.state.version, [{ id: command.mutationId, type: decided.type, data: decided.data, metadata }]);
    const stored = await store.readStream(this.stream, this.state.version + 1, 1);
    this.state.applyAll(stored.map((event) => toVaultEvent(event)));
  }

  expectedSnapshot(): VaultSnapshot {
    return { version: this.state.version, lastModifiedAt: this.state.lastModifiedAt, records: this.state.live(), images: [], vaultKey: this.state.vaultKey };
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private fields(count: number): Field[] {
    const names = [...FIELD_NAMES].sort(() => this.random() - 0.5).slice(0, count);
    return names.map((name) => ({ name, value: `${name}:${Math.floor(this.random() * 1e9).toString(36)}`, sensitive: this.random() < 0.4 }));
  }

  private nextCommand(state: VaultState): RecordCommand {
    const mutationId = randomUUID();
    const all = [...state.records.values()];
    const live = all.filter((record) => record.deletedAt === null);
    const roll = this.random();
    if (live.length === 0 || roll < 0.25) {
      return {
        type: 'CreateRecord',
        mutationId,
        recordId: randomUUID(),
        kind: this.pick(KINDS),
        name: `Record ${Math.floor(this.random() * 1000)}`,
        fields: this.fields(Math.floor(this.random() * 4)),
      };
    }
    // now and then aim at a deleted record: the domain refuses it and the scenario moves on
    const target = roll > 0.95 && all.length > 0 ? this.pick(all) : this.pick(live);
    if (roll < 0.35) return { type: 'DeleteRecord', mutationId, recordId: target.id };
    const existing = target.fields.map((f) => f.name);
    const setFields = this.fields(Math.floor(this.random() * 3));
    const removeFields = existing.filter(() => this.random() < 0.3);
    const update: RecordCommand = { type: 'UpdateRecord', mutationId, recordId: target.id, setFields, removeFields };
    if (this.random() < 0.3) update.name = `Renamed ${Math.floor(this.random() * 1000)}`;
    if (this.random() < 0.15) update.kind = this.pick(KINDS);
    if (!update.name && !update.kind && setFields.length === 0 && removeFields.length === 0) update.name = 'Touched';
    return update;
  }
}

/** Appends `perUser` events for every user, interleaving the users in the global log. */
async function actInterleaved(store: SqlEventStore, users: SimUser[], perUser: number, chunk = 4): Promise<number> {
  let total = 0;
  for (let done = 0; done < perUser; done += chunk) {
    for (const user of users) total += await user.act(store, Math.min(chunk, perUser - done));
  }
  return total;
}

async function storedVersions(db: Database, users: SimUser[]): Promise<number[]> {
  const rows = await db.query<{ user_id: string; version: number }>(
    `SELECT user_id::text AS user_id, version FROM rm_user_versions WHERE user_id = ANY($1::uuid[])`,
    [users.map((user) => user.id)],
  );
  const byUser = new Map(rows.map((row) => [row.user_id, row.version]));
  return users.map((user) => byUser.get(user.id) ?? 0);
}

function streamVersions(users: SimUser[]): number[] {
  return users.map((user) => user.state.version);
}

/**
 * Runs `pass` (a catch-up) until the read model is at every user's stream version. On PGlite the
 * first pass must do it; on PostgreSQL a transaction elsewhere in the cluster may hold the log back.
 * Returns the total of what the passes reported.
 */
async function settle(db: Database, users: SimUser[], pass: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + SETTLE_MS;
  let total = 0;
  for (let attempt = 0; ; attempt++) {
    total += await pass();
    const versions = await storedVersions(db, users);
    if (versions.every((version, i) => version === users[i]!.state.version)) return total;
    if (db.kind === 'pglite') expect.fail(`one catch-up on PGlite left the read model at ${versions} instead of ${streamVersions(users)}`);
    if (Date.now() > deadline) expect.fail(`the read model stayed at ${versions} instead of ${streamVersions(users)}`);
    await sleep(20);
  }
}

/** The same database, but every transaction begins `ms` later than asked. */
function lateStart(db: Database, ms: number): Database {
  return {
    kind: db.kind,
    query: (text, params) => db.query(text, params),
    async transaction(fn, options) {
      await sleep(ms);
      return db.transaction(fn, options);
    },
    exec: (script) => db.exec(script),
    close: () => db.close(),
  };
}

/** `promise`, or a failure naming `what` if it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not resolve within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A pass for settle(): the first one rebuilds, any further one (PostgreSQL held back) catches up. */
function rebuildThenCatchUp(projector: Projector): () => Promise<number> {
  let rebuilt = false;
  return () => {
    if (rebuilt) return projector.catchUp();
    rebuilt = true;
    return projector.rebuild();
  };
}

/** readSnapshot equals the domain's fold, and every row (deleted ones included) equals the folded record. */
async function expectMatchesFold(db: Database, users: SimUser[]): Promise<void> {
  for (const user of users) {
    expect(await readSnapshot(db, user.id), `snapshot of ${user.id}`).to.deep.equal(user.expectedSnapshot());
    const ids = [...user.state.records.keys()];
    const rows = await readRecordStates(db, user.id, ids);
    expect(rows.size, `rows of ${user.id}`).to.equal(ids.length);
    const [{ count }] = (await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM rm_records WHERE user_id = $1`, [user.id])) as [
      { count: number },
    ];
    expect(count, `no stray rows for ${user.id}`).to.equal(ids.length);
    for (const id of ids) expect(rows.get(id), `row ${id} of ${user.id}`).to.deep.equal(user.state.get(id));
  }
}

/** The whole read model (all users) as plain data, to compare before and after a replay. */
async function dumpReadModel(db: Database): Promise<unknown> {
  const records = await db.query(
    `SELECT user_id::text AS user_id, record_id::text AS record_id, kind, name, fields, created_at, updated_at, version, deleted_at
     FROM rm_records ORDER BY user_id, record_id`,
  );
  const versions = await db.query(`SELECT user_id::text AS user_id, version, last_modified_at FROM rm_user_versions ORDER BY user_id`);
  return JSON.parse(JSON.stringify({ records, versions }));
}

async function checkpoint(db: Database): Promise<{ commit: string; prepare: string } | undefined> {
  const rows = await db.query<{ commit: string; prepare: string }>(
    `SELECT commit_position::text AS commit, prepare_position::text AS prepare FROM rm_checkpoints WHERE projection = 'vault-records'`,
  );
  return rows[0];
}

for (const target of databaseTargets) {
  describe(`Projector (${target.name})`, function () {
    let db: Database;
    let store: SqlEventStore;
    /** Every event any test appended to this database, foreign streams included. */
    let appended = 0;
    /** Every user any test created, to check the whole read model after whole-log replays. */
    const everyone: SimUser[] = [];
    let seed = 1;

    function newUsers(count: number): SimUser[] {
      const users = Array.from({ length: count }, () => new SimUser(seed++));
      everyone.push(...users);
      return users;
    }

    async function act(users: SimUser[], perUser: number, chunk?: number): Promise<number> {
      const count = await actInterleaved(store, users, perUser, chunk);
      appended += count;
      return count;
    }

    before(async function () {
      this.timeout(120_000);
      db = await target.open();
      store = new SqlEventStore(db);
    });

    after(async function () {
      this.timeout(60_000);
      if (db) await target.dispose(db);
    });

    it('catches up several users from the log to exactly the fold of their streams', async function () {
      const users = newUsers(4);
      // a stream that is not a user's is in the log too, and must be skipped
      await store.append(`audit-${randomUUID()}`, 0, [{ id: randomUUID(), type: 'LoginSucceeded', data: { ip: '10.0.0.1' }, metadata: {} }]);
      appended += 1;
      const count = await act(users, 12);
      expect(await readSnapshot(db, users[0]!.id)).to.deep.equal({ version: 0, lastModifiedAt: 0, records: [], images: [], vaultKey: null });

      const projector = new Projector(db, store);
      expect(await settle(db, users, () => projector.catchUp())).to.equal(count + 1);
      await expectMatchesFold(db, users);
      // realistic data: some records were deleted, updated and still live
      const states = users.flatMap((user) => [...user.state.records.values()]);
      expect(states.some((state) => state.deletedAt !== null), 'scenario deletes').to.equal(true);
      expect(states.some((state) => state.deletedAt === null && state.version > 1 && state.updatedAt > state.createdAt), 'scenario updates').to.equal(true);
      expect(await projector.catchUp(), 'nothing left').to.equal(0);
      expect(await readSnapshot(db, randomUUID()), 'unknown user').to.deep.equal({ version: 0, lastModifiedAt: 0, records: [], images: [], vaultKey: null });
    });

    it('keeps field order, name and kind through create, update and delete, in snapshot order of creation', async function () {
      const [user] = newUsers(1) as [SimUser];
      const login = await user.create(store, 'GitHub', [
        { name: 'username', value: 'octocat', sensitive: false },
        { name: 'password', value: 'hunter2', sensitive: true },
        { name: 'url', value: 'https://github.com', sensitive: false },
      ]);
      const note = await user.create(store, 'Diary', [{ name: 'text', value: 'dear diary', sensitive: true }], 'note');
      const card = await user.create(store, 'Visa', [{ name: 'number', value: '4111', sensitive: true }], 'card');
      await user.run(store, {
        type: 'UpdateRecord',
        mutationId: randomUUID(),
        recordId: login,
        setFields: [
          { name: 'totp', value: 'JBSWY3DP', sensitive: true },
          { name: 'password', value: 'correct horse', sensitive: true },
        ],
        removeFields: ['url'],
      });
      await user.run(store, { type: 'UpdateRecord', mutationId: randomUUID(), recordId: note, name: 'Journal', kind: 'custom', setFields: [], removeFields: [] });
      await user.run(store, { type: 'DeleteRecord', mutationId: randomUUID(), recordId: card });
      appended += 6;

      const projector = new Projector(db, store);
      await settle(db, [user], () => projector.catchUp());
      const snapshot = await readSnapshot(db, user.id);
      expect(snapshot.version).to.equal(6);
      expect(snapshot.lastModifiedAt).to.equal(user.state.lastModifiedAt);
      expect(snapshot.records.map((record) => record.id)).to.deep.equal([login, note]);
      expect(snapshot.records[0]!.fields).to.deep.equal([
        { name: 'username', value: 'octocat', sensitive: false },
        { name: 'password', value: 'correct horse', sensitive: true },
        { name: 'totp', value: 'JBSWY3DP', sensitive: true },
      ]);
      expect(snapshot.records[0]).to.deep.include({ name: 'GitHub', kind: 'login', version: 4 });
      expect(snapshot.records[1]).to.deep.include({ name: 'Journal', kind: 'custom', version: 5 });
      expect(snapshot.records[1]!.fields).to.deep.equal([{ name: 'text', value: 'dear diary', sensitive: true }]);
      await expectMatchesFold(db, [user]);

      // the deleted record is not in the snapshot but is kept as a row with deleted_at
      const rows = await db.query<{ record_id: string; deleted_at: Date | null; version: number; name: string }>(
        `SELECT record_id::text AS record_id, deleted_at, version, name FROM rm_records WHERE user_id = $1 ORDER BY created_at`,
        [user.id],
      );
      expect(rows.map((row) => row.record_id)).to.deep.equal([login, note, card]);
      expect(rows[2]!.deleted_at).to.be.instanceOf(Date);
      expect(rows[2]!.deleted_at!.getTime()).to.equal(user.state.get(card)!.deletedAt);
      expect(rows[2]).to.deep.include({ version: 6, name: 'Visa' });
      expect(rows[0]!.deleted_at).to.equal(null);
      expect(rows[1]!.deleted_at).to.equal(null);
    });

    it('replays idempotently: resetting only the checkpoint and catching up again changes nothing', async function () {
      const users = newUsers(3);
      await act(users, 10);
      const projector = new Projector(db, store);
      await settle(db, users, () => projector.catchUp());
      const before = await dumpReadModel(db);
      const head = await checkpoint(db);
      expect(head).to.not.equal(undefined);

      await db.query(`UPDATE rm_checkpoints SET commit_position = '0'::xid8, prepare_position = 0 WHERE projection = 'vault-records'`);
      expect(await checkpoint(db)).to.deep.equal({ commit: '0', prepare: '0' });
      // the whole log goes through the projector again (every event is read, none is applied twice)
      let replayed = await projector.catchUp();
      const deadline = Date.now() + SETTLE_MS;
      while (replayed < appended && Date.now() < deadline) {
        await sleep(20);
        replayed += await projector.catchUp();
      }
      expect(replayed).to.equal(appended);
      expect(await checkpoint(db)).to.deep.equal(head);
      expect(await dumpReadModel(db)).to.deep.equal(before);
      await expectMatchesFold(db, everyone);
    });

    it('rebuild() restores a corrupted read model from the log', async function () {
      const users = newUsers(2);
      await act(users, 8);
      const projector = new Projector(db, store);
      await settle(db, users, () => projector.catchUp());

      const [alice, bob] = users as [SimUser, SimUser];
      const victim = alice.state.live()[0] ?? expect.fail('alice has no live record');
      await db.query(
        `UPDATE rm_records SET name = 'CORRUPTED', fields = '[]'::jsonb, version = 999, deleted_at = now() WHERE user_id = $1 AND record_id = $2`,
        [alice.id, victim.id],
      );
      const bobRecord = [...bob.state.records.keys()][0]!;
      await db.query(`DELETE FROM rm_records WHERE user_id = $1 AND record_id = $2`, [bob.id, bobRecord]);
      // a row no event ever made
      const stray = randomUUID();
      await db.query(
        `INSERT INTO rm_records (user_id, record_id, kind, name, fields, created_at, updated_at, version)
         VALUES ($1, $2, 'note', 'stray', '[]'::jsonb, now(), now(), 1)`,
        [bob.id, stray],
      );
      await db.query(`UPDATE rm_user_versions SET version = 1, last_modified_at = now() WHERE user_id = $1`, [bob.id]);
      const corrupted = await readSnapshot(db, alice.id);
      expect(corrupted.records.map((record) => record.id)).to.not.include(victim.id);
      // catching up does not notice: the checkpoint says everything is applied
      expect(await projector.catchUp()).to.equal(0);
      expect((await readRecordStates(db, alice.id, [victim.id])).get(victim.id)!.name).to.equal('CORRUPTED');

      const rebuilt = await settle(db, everyone, rebuildThenCatchUp(projector));
      expect(rebuilt, 'rebuild replays the whole log').to.equal(appended);
      expect((await readRecordStates(db, alice.id, [victim.id])).get(victim.id)).to.deep.equal(alice.state.get(victim.id));
      expect((await readRecordStates(db, bob.id, [bobRecord])).get(bobRecord)).to.deep.equal(bob.state.get(bobRecord));
      expect((await readRecordStates(db, bob.id, [stray])).size, 'stray row removed').to.equal(0);
      await expectMatchesFold(db, everyone);
    });

    it('gives the same read model with batches of 3, whatever the batch boundaries split', async function () {
      const users = newUsers(3);
      // appends of up to 5 events, so batches of 3 cut through appends and through users
      let count = 0;
      for (let round = 0; round < 3; round++) for (const user of users) count += await user.act(store, 5, 5);
      appended += count;

      const batches: number[] = [];
      const projector = new Projector(db, store, { batchSize: 3, onProgress: ({ applied }) => batches.push(applied) });
      expect(await settle(db, users, () => projector.catchUp())).to.equal(count);
      expect(batches.every((size) => size >= 1 && size <= 3), `batch sizes ${batches}`).to.equal(true);
      expect(batches.reduce((a, b) => a + b, 0)).to.equal(count);
      if (db.kind === 'pglite') expect(batches.length).to.equal(Math.ceil(count / 3));
      await expectMatchesFold(db, users);

      // and a whole rebuild in batches of 3 reproduces every user of this database
      const before = await dumpReadModel(db);
      expect(await settle(db, everyone, rebuildThenCatchUp(projector))).to.equal(appended);
      expect(await dumpReadModel(db)).to.deep.equal(before);
      await expectMatchesFold(db, everyone);
    });

    it('two projectors catching up concurrently apply every batch once and agree with the streams', async function () {
      const users = newUsers(5);
      const count = await act(users, 16, 3);

      const applied = new Map<string, number>();
      const make = (name: string) =>
        new Projector(db, store, { batchSize: 4, onProgress: (progress) => applied.set(name, (applied.get(name) ?? 0) + progress.applied) });
      const first = make('first');
      const second = make('second');
      const total = await settle(db, users, async () => {
        const [a, b] = await Promise.all([first.catchUp(), second.catchUp()]);
        return a + b;
      });
      // the checkpoint row lock hands each batch to exactly one of them
      expect(total).to.equal(count);
      expect((applied.get('first') ?? 0) + (applied.get('second') ?? 0)).to.equal(count);
      expect(await storedVersions(db, users)).to.deep.equal(streamVersions(users));
      for (const user of users) expect((await store.streamInfo(user.stream)).version).to.equal(user.state.version);
      await expectMatchesFold(db, users);
    });

    it('running: start() follows appends, idle() waits for them, stop() resolves and stops following', async function () {
      const users = newUsers(2);
      const errors: unknown[] = [];
      const projector = new Projector(db, store, { pollIntervalMs: 50, onError: (error) => errors.push(error) });
      projector.start();
      projector.start(); // a second start is a no-op
      try {
        await projector.idle();
        const waitFor = async () => {
          // on PGlite one idle() must be enough; on PostgreSQL the log may be held back for a moment
          const deadline = Date.now() + SETTLE_MS;
          for (;;) {
            await projector.idle();
            const versions = await storedVersions(db, users);
            if (versions.every((version, i) => version === users[i]!.state.version)) return;
            if (db.kind === 'pglite') expect.fail(`idle() resolved with the read model at ${versions}, not ${streamVersions(users)}`);
            if (Date.now() > deadline) expect.fail(`the running projector stayed at ${versions}`);
          }
        };

        await act(users, 6);
        await waitFor();
        await expectMatchesFold(db, users);

        await act(users, 3);
        await waitFor();
        await expectMatchesFold(db, users);
      } finally {
        await projector.stop();
      }
      expect(errors).to.deep.equal([]);

      // stopped: an append is no longer followed
      const [user] = users as [SimUser, SimUser];
      const stoppedAt = (await readSnapshot(db, user.id)).version;
      await act([user], 1);
      await sleep(200);
      expect((await readSnapshot(db, user.id)).version).to.equal(stoppedAt);
      // a later catch-up picks it up
      await settle(db, users, () => new Projector(db, store).catchUp());
      await expectMatchesFold(db, users);
    });

    it('idle() wakes a running projector for events appended by another process and waits until they are applied', async function () {
      const users = newUsers(2);
      // the projector listens to a store of its own, so these appends do not wake it, and it polls only once a minute
      // and its transactions start a little late, so an idle() that does not wait for the pass shows
      const projector = new Projector(lateStart(db, 30), new SqlEventStore(db), { pollIntervalMs: 60_000 });
      projector.start();
      try {
        // asked while the first pass is still running: must not wait for the next poll
        await within(projector.idle(), 5_000, 'idle() right after start()');
        await act(users, 5);
        await sleep(100);
        expect(await storedVersions(db, users), 'asleep: not applied yet').to.deep.equal([0, 0]);
        const deadline = Date.now() + SETTLE_MS;
        for (;;) {
          await within(projector.idle(), 5_000, 'idle() after appends by another process');
          const versions = await storedVersions(db, users);
          if (versions.every((version, i) => version === users[i]!.state.version)) break;
          if (db.kind === 'pglite') expect.fail(`idle() resolved with the read model at ${versions}, not ${streamVersions(users)}`);
          if (Date.now() > deadline) expect.fail(`the running projector stayed at ${versions}`);
          await sleep(20);
        }
        await expectMatchesFold(db, users);
      } finally {
        await projector.stop();
      }
    });

    // Only real PostgreSQL runs transactions side by side (PGlite has one connection).
    if (target.name === 'PostgreSQL') {
      it('idle() waits for events that committed behind a transaction still in flight elsewhere', async function () {
        const users = newUsers(1);
        const projector = new Projector(db, store);
        const other = new pg.Client({ connectionString: process.env.KEEPER_DATABASE_URL });
        await other.connect();
        projector.start();
        try {
          await within(projector.idle(), 5_000, 'idle() before the appends');
          await other.query('BEGIN');
          // Taking an xid makes this transaction the snapshot's xmin: the gap-safe read stops before what commits after it.
          await other.query('SELECT pg_current_xact_id()');
          await act(users, 3);
          const early = await Promise.race([projector.idle().then(() => 'idle'), sleep(500).then(() => 'waiting')]);
          expect(early, 'idle() while the appended events are held back').to.equal('waiting');
          expect(await storedVersions(db, users)).to.deep.equal([0]);
          await other.query('COMMIT');
          await within(projector.idle(), 5_000, 'idle() once the other transaction ended');
          expect(await storedVersions(db, users)).to.deep.equal([users[0]!.state.version]);
        } finally {
          await other.end().catch(() => {});
          await projector.stop();
        }
      });
    }

    it('stop() on a projector that never started resolves at once', async function () {
      await new Projector(db, store).stop();
    });
  });
}
