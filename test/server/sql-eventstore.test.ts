import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { Database, SqlExecutor, TransactionOptions } from '../../src/server/sql/database.js';
import { isAppendStatement, withHeldCommit } from '../support/sql-commit-hooks.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { DuplicateEventId, WrongExpectedVersion } from '../../src/server/eventstore/port.js';
import { databaseTargets, postgresTarget } from '../support/databases.js';
import { expectStrictlyIncreasing, logHead, newEvent, readAllUntil, rejection, streamName } from '../support/eventstore-contract.js';

/**
 * What the SQL event store does beyond the contract (test/support/eventstore-contract.ts): one
 * statement per append, group commit, and a log that never hands out an event behind a
 * transaction still in flight.
 */


for (const target of databaseTargets) {
  describe(`SqlEventStore (${target.name})`, function () {
    let db: Database;
    let store: SqlEventStore;

    before(async function () {
      db = await target.open();
      store = new SqlEventStore(db);
    });

    after(async function () {
      if (db) await target.dispose(db);
    });

    describe('round trips (SqlEventStore)', function () {
      it('appends in one autocommit statement, and reads once more only when the claim fails', async function () {
        const statements: string[] = [];
        let transactions = 0;
        const counting = new SqlEventStore({
          kind: db.kind,
          query<Row>(text: string, params?: readonly unknown[]) {
            statements.push(text);
            return db.query<Row>(text, params);
          },
          transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions) {
            transactions++;
            return db.transaction(fn, options);
          },
          exec: (script) => db.exec(script),
          close: () => db.close(),
        });
        const stream = streamName('trips');
        const first = [newEvent('A'), newEvent('B')];
        expect(await counting.append(stream, 0, first)).to.deep.equal({ nextVersion: 2, duplicate: false });
        expect(await counting.append(stream, 2, [newEvent('C')])).to.deep.equal({ nextVersion: 3, duplicate: false });
        expect(statements).to.have.length(2);
        expect(statements.every(isAppendStatement)).to.equal(true);
        // A retry and a conflict: the statement, then one read.
        expect(await counting.append(stream, 0, first)).to.deep.equal({ nextVersion: 2, duplicate: true });
        expect(await rejection(counting.append(stream, 1, [newEvent('D')]))).to.be.instanceOf(WrongExpectedVersion);
        expect(statements).to.have.length(6);
        expect(transactions).to.equal(0);
      });
    });

    describe('group commit (SqlEventStore)', function () {
      /** A store over `db` that counts its append statements and can hold them until released. */
      function countingStore(appendsInFlight: number) {
        const appendStatements: number[] = [];
        let hold: Promise<void> | undefined;
        const store = new SqlEventStore(
          {
            kind: db.kind,
            async query<Row>(text: string, params?: readonly unknown[]) {
              if (isAppendStatement(text)) {
                appendStatements.push(JSON.parse(String(params?.[0])).length);
                await hold;
              }
              return db.query<Row>(text, params);
            },
            transaction: (fn, options) => db.transaction(fn, options),
            exec: (script) => db.exec(script),
            close: () => db.close(),
          },
          { appendsInFlight },
        );
        return {
          store,
          appendStatements,
          holdAppends() {
            let release!: () => void;
            hold = new Promise((resolve) => (release = resolve));
            return () => {
              hold = undefined;
              release();
            };
          },
        };
      }

      it('writes appends that arrive while a statement runs together in the next one, each with its own answer', async function () {
        const { store: grouped, appendStatements, holdAppends } = countingStore(1);
        const release = holdAppends();
        const first = grouped.append(streamName('g-first'), 0, [newEvent('A')]);
        // These arrive while the first statement is held: they wait and then go as one statement.
        const streams = Array.from({ length: 6 }, (_, i) => streamName(`g${i}`));
        const rest = streams.map((stream, i) => grouped.append(stream, 0, Array.from({ length: i + 1 }, () => newEvent('B'))));
        await sleep(20);
        expect(appendStatements, 'only the first statement is sent while it runs').to.deep.equal([1]);
        release();
        expect(await first).to.deep.equal({ nextVersion: 1, duplicate: false });
        expect(await Promise.all(rest)).to.deep.equal(streams.map((_, i) => ({ nextVersion: i + 1, duplicate: false })));
        expect(appendStatements).to.deep.equal([1, 6]);
        for (const [i, stream] of streams.entries()) {
          const events = await store.readStream(stream, 1, 100);
          expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: i + 1 }, (_, k) => k + 1));
        }
      });

      it('gives a conflict or a duplicate event id to its own append only, and lands the rest of the group', async function () {
        const { store: grouped, appendStatements, holdAppends } = countingStore(1);
        const existing = streamName('g-existing');
        const taken = newEvent('Taken');
        const made = [newEvent('A'), taken];
        await grouped.append(existing, 0, made);
        // Event ids are unique per stream: the duplicate is one this stream already holds.
        const dup = streamName('g-dup');
        const held = newEvent('Held');
        await grouped.append(dup, 0, [held]);
        const release = holdAppends();
        const blocker = grouped.append(streamName('g-blocker'), 0, [newEvent('A')]);
        const fine = [streamName('g-fine-1'), streamName('g-fine-2')];
        const outcomes = Promise.allSettled([
          grouped.append(fine[0]!, 0, [newEvent('A'), newEvent('B')]),
          grouped.append(existing, 1, [newEvent('Stale')]),
          grouped.append(dup, 1, [newEvent('C'), { ...newEvent('D'), id: held.id }]),
          grouped.append(fine[1]!, 0, [newEvent('A')]),
          // A retry of the append that made `existing`: recognised, nothing appended.
          grouped.append(existing, 0, made),
        ]);
        release();
        await blocker;
        const [first, stale, duplicate, second, retry] = await outcomes;
        expect(first).to.deep.equal({ status: 'fulfilled', value: { nextVersion: 2, duplicate: false } });
        expect(second).to.deep.equal({ status: 'fulfilled', value: { nextVersion: 1, duplicate: false } });
        expect(stale.status === 'rejected' && stale.reason).to.be.instanceOf(WrongExpectedVersion).and.include({ currentVersion: 2 });
        expect(duplicate.status === 'rejected' && duplicate.reason).to.be.instanceOf(DuplicateEventId);
        expect((await store.readStream(existing, 1, 10)).map((e) => e.type)).to.deep.equal(['A', 'Taken']);
        expect(retry).to.deep.equal({ status: 'fulfilled', value: { nextVersion: 2, duplicate: true } });
        expect((await store.readStream(fine[0]!, 1, 10)).map((e) => e.type)).to.deep.equal(['A', 'B']);
        expect((await store.readStream(fine[1]!, 1, 10)).map((e) => e.type)).to.deep.equal(['A']);
        // The group failed on the duplicate id as a whole, then each of its appends went alone.
        expect((await store.readStream(dup, 1, 10)).map((e) => e.type)).to.deep.equal(['Held']);
        expect(appendStatements.slice(0, 4)).to.deep.equal([1, 1, 1, 4]);
      });

      it('never puts two appends of one stream in one statement: the second is decided on what the first wrote', async function () {
        const { store: grouped, appendStatements, holdAppends } = countingStore(1);
        const stream = streamName('g-same');
        const release = holdAppends();
        const blocker = grouped.append(streamName('g-blocker'), 0, [newEvent('A')]);
        const one = grouped.append(stream, 0, [newEvent('One')]);
        const again = grouped.append(stream, 0, [newEvent('Again')]);
        const next = grouped.append(stream, 1, [newEvent('Next')]);
        release();
        await blocker;
        expect(await one).to.deep.equal({ nextVersion: 1, duplicate: false });
        expect(await rejection(again)).to.be.instanceOf(WrongExpectedVersion);
        expect(await next).to.deep.equal({ nextVersion: 2, duplicate: false });
        expect((await store.readStream(stream, 1, 10)).map((e) => e.type)).to.deep.equal(['One', 'Next']);
        expect(appendStatements).to.deep.equal([1, 1, 1, 1]);
      });

      it('two replicas grouping appends to the same streams lose nothing, duplicate nothing and never stall', async function () {
        this.timeout(60_000);
        const counted = [countingStore(2), countingStore(2)];
        const replicas = counted.map((replica) => replica.store);
        const streams = Array.from({ length: 8 }, (_, i) => streamName(`contended-${i}`));
        const landed = new Map<string, string[]>(streams.map((stream) => [stream, []]));
        let conflicts = 0;
        // Each writer appends to streams in its own shuffled order, so the replicas' groups hold
        // the same streams in different orders: the lock order must not depend on it.
        const writer = async (replica: SqlEventStore, seed: number) => {
          for (let round = 0; round < 15; round++) {
            const stream = streams[(seed * 7 + round * 3) % streams.length]!;
            for (;;) {
              const { version } = await replica.streamInfo(stream);
              const event = newEvent(`w${seed}`);
              try {
                await replica.append(stream, version, [event]);
                landed.get(stream)!.push(event.id);
                break;
              } catch (error) {
                if (!(error instanceof WrongExpectedVersion)) throw error;
                conflicts++;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: 12 }, (_, seed) => writer(replicas[seed % 2]!, seed)));
        for (const stream of streams) {
          const events = await store.readStream(stream, 1, 1000);
          expect(events.map((e) => e.version)).to.deep.equal(events.map((_, i) => i + 1));
          expect(new Set(events.map((e) => e.id))).to.deep.equal(new Set(landed.get(stream)));
        }
        expect([...landed.values()].flat()).to.have.length(12 * 15);
        expect(conflicts, 'the writers raced for the same streams').to.be.above(0);
        expect(counted.flatMap((replica) => replica.appendStatements).some((appends) => appends > 1), 'some statements carried several appends').to.equal(true);
      });
    });


    describe('held commits', function () {
      if (target === postgresTarget) {
        it('does not read past a transaction that has not committed yet, and reads it once it commits (PostgreSQL)', async function () {
          const head = await logHead(store);
          const slowStream = streamName('slow');
          const fastStream = streamName('fast');
          const before = newEvent('Before');
          await store.append(fastStream, 0, [before]);
          await readAllUntil(store, head, [before.id]);

          // A tailer that has read everything committed so far.
          const tailed = await store.readAll(head, 100);
          expect(tailed.map((e) => e.id)).to.deep.equal([before.id]);
          let tailerPosition = tailed[0]!.position;

          const held = withHeldCommit(db);
          const slow = newEvent('Slow');
          const slowAppend = new SqlEventStore(held.db).append(slowStream, 0, [slow]);
          try {
            // Its events are inserted, its transaction is open (if the append never reached the
            // hook, this times out rather than passing without the late commit).
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([
              held.reached,
              new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the append never reached the held commit')), 10_000))),
            ]).finally(() => clearTimeout(timer));
            expect(held.held()).to.equal(1);

            const fast = newEvent('Fast');
            expect(await store.append(fastStream, 1, [fast])).to.deep.equal({ nextVersion: 2, duplicate: false });
            // The later append is committed and readable by stream...
            expect((await store.readStream(fastStream, 1, 10)).map((e) => e.id)).to.deep.equal([before.id, fast.id]);
            // ...while the earlier one is still invisible.
            expect(await store.readStream(slowStream, 1, 10)).to.deep.equal([]);
            expect((await store.streamInfo(slowStream)).version).to.equal(0);

            // The log must not hand out the later event: a tailer advancing past it would skip the
            // in-flight one for good once it commits.
            for (let i = 0; i < 3; i++) {
              expect(await store.readAll(tailerPosition, 100)).to.deep.equal([]);
              expect((await store.readAll(head, 100)).map((e) => e.id)).to.deep.equal([before.id]);
              await sleep(10);
            }

            held.release();
            expect(await slowAppend).to.deep.equal({ nextVersion: 1, duplicate: false });

            const caughtUp = await readAllUntil(store, tailerPosition, [slow.id, fast.id]);
            expect(caughtUp.map((e) => e.id)).to.deep.equal([slow.id, fast.id]);
            expectStrictlyIncreasing(caughtUp);
            tailerPosition = caughtUp.at(-1)!.position;
            expect(await store.readAll(tailerPosition, 100)).to.deep.equal([]);
            expect((await store.readAll(head, 100)).map((e) => e.id)).to.deep.equal([before.id, slow.id, fast.id]);
          } finally {
            held.release();
            await slowAppend.catch(() => {});
          }
        });

        it('says events are held back while a transaction in flight holds them (heldBackAfter)', async function () {
        const head = await logHead(store);
        const held = withHeldCommit(db);
        const slow = newEvent('Slow');
        const slowAppend = new SqlEventStore(held.db).append(streamName('slow-held'), 0, [slow]);
        try {
          await held.reached;
          const fast = newEvent('Fast');
          await store.append(streamName('fast-held'), 0, [fast]);
          expect(await store.readAll(head, 10)).to.deep.equal([]);
          expect(await store.heldBackAfter(head)).to.equal(true);
        } finally {
          held.release();
          await slowAppend;
        }
        const read = await readAllUntil(store, head, [slow.id]);
        expect(await store.heldBackAfter(read.at(-1)!.position)).to.equal(false);
        });
      }
    });
  });
}
