import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import {
  DuplicateEventId,
  LOG_START,
  WrongExpectedVersion,
  type EventStore,
  type EventStoreGuarantees,
  type LogPosition,
  type LoggedEvent,
  type NewEvent,
} from '../../src/server/eventstore/port.js';

/**
 * The EventStore contract as a function every adapter runs (the SQL store on PGlite and on
 * PostgreSQL, KurrentDB when a server is given). Every test uses streams of its own, and tests
 * that read the global log start from a marker they appended, so they see only their events.
 */

export interface OpenedStore {
  store: EventStore;
  /** A second instance over the same log (its listeners are its own). */
  another(): EventStore;
  /** An instance whose appends commit a random moment late, when the store can be made to. */
  slowWriter?(): EventStore;
  close(): Promise<void>;
}

export interface EventStoreTarget {
  name: string;
  /** What the adapter promises (checked against the store): decides which branch of a test applies. */
  guarantees: EventStoreGuarantees;
  open(): Promise<OpenedStore>;
}

export function newEvent(type: string, data: unknown = { n: Math.random() }, metadata: Record<string, unknown> = {}): NewEvent {
  return { id: randomUUID(), type, data, metadata };
}

export function streamName(label: string): string {
  return `${label}-${randomUUID()}`;
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function expectStrictlyIncreasing(events: readonly LoggedEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    const previous = events[i - 1]!.position;
    const current = events[i]!.position;
    expect(comparePositions(previous, current), `position ${i} must be after position ${i - 1}`).to.equal(-1);
  }
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return expect.fail('expected the promise to reject');
}

/**
 * Reads the log from `after` until every id in `ids` has been read (another transaction in the
 * cluster may hold readAll back for a moment on a shared PostgreSQL). Returns everything read.
 */
export async function readAllUntil(store: EventStore, after: LogPosition, ids: readonly string[], timeoutMs = 10_000): Promise<LoggedEvent[]> {
  const wanted = new Set(ids);
  const read: LoggedEvent[] = [];
  let position = after;
  const deadline = Date.now() + timeoutMs;
  while (wanted.size > 0) {
    const page = await store.readAll(position, 500);
    for (const event of page) {
      read.push(event);
      wanted.delete(event.id);
    }
    const last = page.at(-1);
    if (last) {
      position = last.position;
      continue;
    }
    if (Date.now() > deadline) expect.fail(`readAll did not return ${wanted.size} event(s) within ${timeoutMs} ms`);
    await sleep(5);
  }
  return read;
}

/** Appends a marker event and returns its log position: everything after it was appended later. */
export async function logHead(store: EventStore): Promise<LogPosition> {
  const marker = newEvent('Marker');
  await store.append(streamName('marker'), 0, [marker]);
  const read = await readAllUntil(store, LOG_START, [marker.id]);
  const found = read.find((event) => event.id === marker.id);
  return found!.position;
}

export function eventStoreContract(target: EventStoreTarget): void {
  describe(`EventStore contract (${target.name})`, function () {
    let opened: OpenedStore;
    let store: EventStore;
    const guarantees = target.guarantees;

    before(async function () {
      opened = await target.open();
      store = opened.store;
    });

    after(async function () {
      await opened?.close();
    });

    describe('append and readStream', function () {
      it('appends to a new stream at expected version 0, numbering versions from 1', async function () {
        const stream = streamName('new');
        const before = Date.now();
        const first = [
          newEvent('Created', { name: 'vault', nested: { list: [1, 'two', null], flag: true } }, { userAgent: 'test', n: 1 }),
          newEvent('Renamed', 'just a string'),
          newEvent('Touched', 42, {}),
        ];
        expect(await store.append(stream, 0, first)).to.deep.equal({ nextVersion: 3, duplicate: false });
        const fourth = newEvent('Deleted', [{ a: 1 }, { b: [2] }], { reason: 'x' });
        expect(await store.append(stream, 3, [fourth])).to.deep.equal({ nextVersion: 4, duplicate: false });

        const events = await store.readStream(stream, 1, 100);
        const appended = [...first, fourth];
        expect(events.map((e) => e.version)).to.deep.equal([1, 2, 3, 4]);
        for (const [index, event] of events.entries()) {
          const expected = appended[index]!;
          expect(event.id).to.equal(expected.id);
          expect(event.streamId).to.equal(stream);
          expect(event.type).to.equal(expected.type);
          expect(event.data).to.deep.equal(expected.data);
          expect(event.metadata).to.deep.equal(expected.metadata);
          expect(event.createdAt).to.be.instanceOf(Date);
          // The database clock, so allow some skew against this process's clock.
          expect(event.createdAt.getTime()).to.be.within(before - 60_000, Date.now() + 60_000);
        }
        expect(events[3]!.createdAt.getTime()).to.be.at.least(events[0]!.createdAt.getTime());
      });

      it('reads a stream from a middle version and at most maxCount events', async function () {
        const stream = streamName('paged');
        const events = [1, 2, 3, 4, 5].map((n) => newEvent('Numbered', { n }));
        await store.append(stream, 0, events.slice(0, 2));
        await store.append(stream, 2, events.slice(2));

        const fromThree = await store.readStream(stream, 3, 100);
        expect(fromThree.map((e) => e.version)).to.deep.equal([3, 4, 5]);
        expect(fromThree.map((e) => e.id)).to.deep.equal(events.slice(2).map((e) => e.id));

        const twoFromTwo = await store.readStream(stream, 2, 2);
        expect(twoFromTwo.map((e) => e.version)).to.deep.equal([2, 3]);
        expect(twoFromTwo.map((e) => (e.data as { n: number }).n)).to.deep.equal([2, 3]);

        expect((await store.readStream(stream, 0, 100)).map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5]);
        expect((await store.readStream(stream, 1, 1)).map((e) => e.version)).to.deep.equal([1]);
        expect(await store.readStream(stream, 6, 100)).to.deep.equal([]);
        expect(await store.readStream(streamName('missing'), 1, 100)).to.deep.equal([]);
      });

      it('reads no more events than fit in maxBytes of data, but always the first one', async function () {
        const stream = streamName('bytes');
        // Each event's data is about 10 kB as JSON text.
        const events = Array.from({ length: 6 }, (_, n) => newEvent('Sized', { n, text: 'x'.repeat(10_000) }));
        await store.append(stream, 0, events);

        expect((await store.readStream(stream, 1, 100, 25_000)).map((e) => e.version)).to.deep.equal([1, 2]);
        expect((await store.readStream(stream, 3, 100, 35_000)).map((e) => e.version)).to.deep.equal([3, 4, 5]);
        // maxCount still applies, and one event larger than maxBytes comes alone.
        expect((await store.readStream(stream, 1, 2, 1_000_000)).map((e) => e.version)).to.deep.equal([1, 2]);
        const alone = await store.readStream(stream, 4, 100, 100);
        expect(alone.map((e) => e.version)).to.deep.equal([4]);
        expect(alone[0]!.data).to.deep.equal(events[3]!.data);
        expect(await store.readStream(stream, 7, 100, 100)).to.deep.equal([]);

        // Small events too: never more data than maxBytes, escapes counted as what they take.
        const small = streamName('small');
        await store.append(small, 0, Array.from({ length: 40 }, (_, n) => newEvent('Small', { n, text: n % 2 ? '\u0001"\\'.repeat(20) : 'plain' })));
        for (let from = 1; from <= 40; ) {
          const page = await store.readStream(small, from, 100, 600);
          expect(page.length).to.be.at.least(1);
          if (page.length > 1) expect(page.reduce((bytes, e) => bytes + Buffer.byteLength(JSON.stringify(e.data)), 0)).to.be.at.most(600);
          from = page.at(-1)!.version + 1;
        }
      });

      it('keeps streams apart', async function () {
        const a = streamName('a');
        const b = streamName('b');
        const ea = newEvent('A');
        const eb = [newEvent('B'), newEvent('B')];
        await store.append(a, 0, [ea]);
        await store.append(b, 0, eb);
        expect((await store.readStream(a, 1, 10)).map((e) => e.id)).to.deep.equal([ea.id]);
        expect((await store.readStream(b, 1, 10)).map((e) => e.id)).to.deep.equal(eb.map((e) => e.id));
        expect((await store.streamInfo(a)).version).to.equal(1);
        expect((await store.streamInfo(b)).version).to.equal(2);
      });
    });

    describe('expected version', function () {
      it('rejects an append to a new stream at an expected version above 0 and appends nothing', async function () {
        const stream = streamName('missing');
        const event = newEvent('Created');
        const error = await rejection(store.append(stream, 2, [event]));
        expect(error).to.be.instanceOf(WrongExpectedVersion);
        const wrong = error as WrongExpectedVersion;
        expect(wrong.streamId).to.equal(stream);
        expect(wrong.expectedVersion).to.equal(2);
        expect(wrong.currentVersion).to.equal(0);

        expect(await store.readStream(stream, 1, 10)).to.deep.equal([]);
        expect(await store.streamInfo(stream)).to.deep.equal({ version: 0, updatedAt: null });
        // Nothing was kept: the same event id appends fine at the right version.
        expect(await store.append(stream, 0, [event])).to.deep.equal({ nextVersion: 1, duplicate: false });
      });

      it('rejects a stale or ahead expected version on an existing stream with the current version and appends nothing', async function () {
        const stream = streamName('existing');
        await store.append(stream, 0, [newEvent('A'), newEvent('B')]);
        const late = newEvent('C');

        for (const expected of [1, 0, 3]) {
          const error = await rejection(store.append(stream, expected, [late, newEvent('D')]));
          expect(error, `expected version ${expected}`).to.be.instanceOf(WrongExpectedVersion);
          expect((error as WrongExpectedVersion).expectedVersion).to.equal(expected);
          expect((error as WrongExpectedVersion).currentVersion).to.equal(2);
        }
        expect((await store.readStream(stream, 1, 10)).map((e) => e.type)).to.deep.equal(['A', 'B']);
        expect((await store.streamInfo(stream)).version).to.equal(2);

        expect(await store.append(stream, 2, [late])).to.deep.equal({ nextVersion: 3, duplicate: false });
        expect((await store.readStream(stream, 1, 10)).map((e) => e.type)).to.deep.equal(['A', 'B', 'C']);
      });

      it('treats an empty append as a version check', async function () {
        const stream = streamName('empty');
        expect(await store.append(stream, 0, [])).to.deep.equal({ nextVersion: 0, duplicate: false });
        await store.append(stream, 0, [newEvent('A')]);
        expect(await store.append(stream, 1, [])).to.deep.equal({ nextVersion: 1, duplicate: false });
        const error = await rejection(store.append(stream, 0, []));
        expect(error).to.be.instanceOf(WrongExpectedVersion);
        expect((error as WrongExpectedVersion).currentVersion).to.equal(1);
      });
    });

    describe('idempotency', function () {
      it('recognises a retry of an append that already landed and appends nothing', async function () {
        const stream = streamName('retry');
        const first = [newEvent('A'), newEvent('B')];
        expect(await store.append(stream, 0, first)).to.deep.equal({ nextVersion: 2, duplicate: false });
        expect(await store.append(stream, 0, first)).to.deep.equal({ nextVersion: 2, duplicate: true });

        const second = [newEvent('C')];
        expect(await store.append(stream, 2, second)).to.deep.equal({ nextVersion: 3, duplicate: false });
        expect(await store.append(stream, 2, second)).to.deep.equal({ nextVersion: 3, duplicate: true });
        // Still recognised after the stream moved on.
        expect(await store.append(stream, 0, first)).to.deep.equal({ nextVersion: 2, duplicate: true });

        const events = await store.readStream(stream, 1, 10);
        expect(events.map((e) => e.id)).to.deep.equal([...first, ...second].map((e) => e.id));
        expect((await store.streamInfo(stream)).version).to.equal(3);
      });

      it('recognises a retry whose event ids are UUIDs written in upper case', async function () {
        // Ids are UUIDs (validated case-insensitively upstream); the store keeps them canonical.
        const stream = streamName('upper');
        const events = [newEvent('A'), newEvent('B')].map((e) => ({ ...e, id: e.id.toUpperCase() }));
        expect(await store.append(stream, 0, events)).to.deep.equal({ nextVersion: 2, duplicate: false });
        expect(await store.append(stream, 0, events)).to.deep.equal({ nextVersion: 2, duplicate: true });
        const stored = await store.readStream(stream, 1, 10);
        expect(stored.map((e) => e.id.toLowerCase())).to.deep.equal(events.map((e) => e.id.toLowerCase()));
        // The same UUID in lower case is the same id.
        const error = await rejection(store.append(stream, 2, [{ ...events[0]!, id: events[0]!.id.toLowerCase() }]));
        expect(error).to.be.instanceOf(DuplicateEventId);
      });

      it('does not take a partial match for a retry', async function () {
        const stream = streamName('partial');
        const [a, b] = [newEvent('A'), newEvent('B')];
        await store.append(stream, 0, [a, b]);
        // Same first id, different second one: not the same append.
        const error = await rejection(store.append(stream, 0, [a, newEvent('X')]));
        expect(error).to.satisfy((e: unknown) => e instanceof WrongExpectedVersion || e instanceof DuplicateEventId);
        expect((await store.readStream(stream, 1, 10)).map((e) => e.id)).to.deep.equal([a.id, b.id]);
      });

      it('says what it promises about event ids (guarantees)', function () {
        expect(store.guarantees).to.deep.equal(guarantees);
      });

      if (guarantees.eventIdsUniqueInStream) {
        it('rejects an event id used in an earlier append of the same stream, all or nothing', async function () {
        const stream = streamName('owner');
        const used = newEvent('Used');
        await store.append(stream, 0, [used]);

        // Right expected version, but the id belongs to an earlier append.
        const error = await rejection(store.append(stream, 1, [newEvent('New'), used]));
        expect(error).to.be.instanceOf(DuplicateEventId);
        expect((error as DuplicateEventId).eventIds).to.include(used.id);
        expect((await store.streamInfo(stream)).version).to.equal(1);
        expect((await store.readStream(stream, 1, 10)).map((e) => e.id)).to.deep.equal([used.id]);
      });
      } else {
        it('recognises a late retry at its expected version, and takes an old id at a new version as a new event (ids are not unique in a stream)', async function () {
          const stream = streamName('owner');
          const used = newEvent('Used');
          await store.append(stream, 0, [used]);
          await store.append(stream, 1, [newEvent('Next')]);
          expect(await store.append(stream, 0, [used])).to.deep.equal({ nextVersion: 1, duplicate: true });
          expect(await store.append(stream, 2, [used])).to.deep.equal({ nextVersion: 3, duplicate: false });
          expect((await store.readStream(stream, 1, 10)).map((e) => e.id)).to.deep.equal([used.id, (await store.readStream(stream, 2, 1))[0]!.id, used.id]);
        });
      }

      it("takes an event id another stream uses as new (streams learn nothing of each other's ids)", async function () {
        const first = streamName('first');
        const other = streamName('other');
        const shared = newEvent('Shared');
        await store.append(first, 0, [shared]);

        const mine = { ...shared, type: 'Mine', data: { n: 'other' } };
        expect(await store.append(other, 0, [newEvent('Fresh'), mine])).to.deep.equal({ nextVersion: 2, duplicate: false });
        // Each stream's retry is still its own duplicate, grouped or alone.
        const retries = await Promise.all([store.append(first, 0, [shared]), store.append(other, 1, [mine])]);
        expect(retries).to.deep.equal([
          { nextVersion: 1, duplicate: true },
          { nextVersion: 2, duplicate: true },
        ]);
        expect((await store.readStream(first, 1, 10)).map((e) => [e.id, e.type])).to.deep.equal([[shared.id, 'Shared']]);
        expect((await store.readStream(other, 2, 10)).map((e) => [e.id, e.type])).to.deep.equal([[shared.id, 'Mine']]);
      });

      it('rejects the same event id twice in one append', async function () {
        const stream = streamName('twice');
        const event = newEvent('Twice');
        expect(await rejection(store.append(stream, 0, [event, { ...event, type: 'Again' }]))).to.be.instanceOf(DuplicateEventId);
        expect(await store.streamInfo(stream)).to.deep.equal({ version: 0, updatedAt: null });
        expect(await store.readStream(stream, 1, 10)).to.deep.equal([]);
      });
    });

    describe('streamInfo', function () {
      it('is version 0 with no updatedAt for an empty stream, then follows appends', async function () {
        const stream = streamName('info');
        expect(await store.streamInfo(stream)).to.deep.equal({ version: 0, updatedAt: null });

        await store.append(stream, 0, [newEvent('A'), newEvent('B')]);
        const afterFirst = await store.streamInfo(stream);
        expect(afterFirst.version).to.equal(2);
        expect(afterFirst.updatedAt).to.be.instanceOf(Date);

        await sleep(5);
        await store.append(stream, 2, [newEvent('C')]);
        const afterSecond = await store.streamInfo(stream);
        expect(afterSecond.version).to.equal(3);
        expect(afterSecond.updatedAt).to.be.instanceOf(Date);
        expect(afterSecond.updatedAt!.getTime()).to.be.greaterThan(afterFirst.updatedAt!.getTime());
        const last = (await store.readStream(stream, 3, 1))[0]!;
        expect(afterSecond.updatedAt!.getTime()).to.equal(last.createdAt.getTime());
      });
    });

    describe('readAll', function () {
      it('returns events of several streams in global order and pages with `after` and maxCount', async function () {
        const head = await logHead(store);
        const [s1, s2, s3] = [streamName('s1'), streamName('s2'), streamName('s3')];
        const a = [newEvent('A1'), newEvent('A2'), newEvent('A3')];
        const b = [newEvent('B1')];
        const c = [newEvent('C1'), newEvent('C2')];
        await store.append(s1, 0, a.slice(0, 2));
        await store.append(s2, 0, b);
        await store.append(s1, 2, a.slice(2));
        await store.append(s3, 0, c);
        const appendOrder = [a[0]!, a[1]!, b[0]!, a[2]!, c[0]!, c[1]!];
        const expectedStreams = [s1, s1, s2, s1, s3, s3];
        const expectedVersions = [1, 2, 1, 3, 1, 2];

        await readAllUntil(store, head, appendOrder.map((e) => e.id));
        const all = await store.readAll(head, 1000);
        expect(all.map((e) => e.id)).to.deep.equal(appendOrder.map((e) => e.id));
        expect(all.map((e) => e.streamId)).to.deep.equal(expectedStreams);
        expect(all.map((e) => e.version)).to.deep.equal(expectedVersions);
        expect(all.map((e) => e.type)).to.deep.equal(appendOrder.map((e) => e.type));
        expect(all.map((e) => e.data)).to.deep.equal(appendOrder.map((e) => e.data));
        for (const event of all) {
          expect(event.createdAt).to.be.instanceOf(Date);
          expect(typeof event.position.commit).to.equal('bigint');
          expect(typeof event.position.prepare).to.equal('bigint');
          expect(comparePositions(event.position, head)).to.equal(1);
        }
        expectStrictlyIncreasing(all);

        // Paging: maxCount 2 from the head, each next page after the last position read.
        const pages: LoggedEvent[][] = [];
        let after = head;
        for (;;) {
          const page = await store.readAll(after, 2);
          if (page.length === 0) break;
          pages.push(page);
          after = page.at(-1)!.position;
          expect(pages.length).to.be.at.most(10);
        }
        expect(pages.map((p) => p.length)).to.deep.equal([2, 2, 2]);
        expect(pages.flat().map((e) => e.id)).to.deep.equal(all.map((e) => e.id));

        // `after` is exclusive.
        expect((await store.readAll(all[1]!.position, 1)).map((e) => e.id)).to.deep.equal([b[0]!.id]);
        expect((await store.readAll(all[2]!.position, 2)).map((e) => e.id)).to.deep.equal([a[2]!.id, c[0]!.id]);
        expect(await store.readAll(all.at(-1)!.position, 10)).to.deep.equal([]);

        // From the very start the log holds ours after everything earlier, each event once.
        const fromStart = await readAllUntil(store, LOG_START, [c[1]!.id]);
        expectStrictlyIncreasing(fromStart);
        expect(new Set(fromStart.map((e) => `${e.streamId}/${e.id}`)).size).to.equal(fromStart.length);
        expect(fromStart.slice(-6).map((e) => e.id)).to.deep.equal(appendOrder.map((e) => e.id));
        const firstPage = await store.readAll(LOG_START, 3);
        expect(firstPage.map((e) => e.id)).to.deep.equal(fromStart.slice(0, 3).map((e) => e.id));
      });
    });


    describe('readAll with types', function () {
      it('returns every event by position, only those of the given types with their data and metadata', async function () {
        const head = await logHead(store);
        const stream = streamName('typed');
        const events = [newEvent('Plain', { a: 1 }, { m: 1 }), newEvent('Wanted', { b: 2 }, { m: 2 }), newEvent('Plain', { c: 3 }, { m: 3 })];
        await store.append(stream, 0, events);
        await readAllUntil(store, head, events.map((e) => e.id));
        const read = await store.readAll(head, 10, { types: ['Wanted'] });
        expect(read.map((e) => [e.id, e.type, e.version])).to.deep.equal(events.map((e, i) => [e.id, e.type, i + 1]));
        expect(read.map((e) => e.data)).to.deep.equal([null, { b: 2 }, null]);
        expect(read[1]!.metadata).to.deep.equal({ m: 2 });
        expect((await store.readAll(head, 10)).map((e) => e.data)).to.deep.equal(events.map((e) => e.data));
      });

      it('holds nothing back once every write has landed', async function () {
        const head = await logHead(store);
        const event = newEvent('Landed');
        await store.append(streamName('landed'), 0, [event]);
        const read = await readAllUntil(store, head, [event.id]);
        expect(await store.heldBackAfter(read.at(-1)!.position)).to.equal(false);
      });
    });

    describe('onAppended', function () {
      it('is called after commit with the stream id and its new version, only for appends that land, until unsubscribed', async function () {
        const stream = streamName('listened');
        const calls: string[] = [];
        const reads: Promise<number>[] = [];
        const unsubscribe = store.onAppended((streamId) => {
          calls.push(streamId);
          // Read on another connection right away: the append must already be committed.
          reads.push(store.readStream(streamId, 1, 100).then((events) => events.length));
        });
        const otherCalls: string[] = [];
        const versions: number[] = [];
        const unsubscribeOther = store.onAppended((streamId, version) => {
          otherCalls.push(streamId);
          versions.push(version);
        });
        const otherInstanceCalls: string[] = [];
        const otherInstance = opened.another();
        const unsubscribeOtherInstance = otherInstance.onAppended((streamId) => otherInstanceCalls.push(streamId));

        try {
          const first = newEvent('A');
          await store.append(stream, 0, [first]);
          expect(calls).to.deep.equal([stream]);
          expect(otherCalls).to.deep.equal([stream]);
          expect(await reads[0]).to.equal(1);

          await store.append(stream, 1, [newEvent('B'), newEvent('C')]);
          expect(calls).to.deep.equal([stream, stream]);
          expect(await reads[1]).to.equal(3);

          // Appends that do not land do not notify.
          await rejection(store.append(stream, 1, [newEvent('Stale')]));
          await rejection(store.append(stream, 3, [first]));
          expect(calls).to.have.length(2);

          // Only listeners of the instance that appended.
          expect(otherInstanceCalls).to.deep.equal([]);

          unsubscribe();
          await store.append(stream, 3, [newEvent('D')]);
          expect(calls).to.have.length(2);
          expect(otherCalls).to.have.length(3);
          expect(versions).to.deep.equal([1, 3, 4]);
        } finally {
          unsubscribe();
          unsubscribeOther();
          unsubscribeOtherInstance();
        }
      });
    });


    describe('concurrency', function () {
      it('many concurrent appenders and a concurrent tailer: every event read exactly once, versions contiguous', async function () {
        this.timeout(60_000);
        const WRITERS = 20;
        const APPENDS = 25;
        const head = await logHead(store);
        // A target may hold each commit back a random moment (real Postgres: so transactions commit
        // out of transaction-id order, the window in which a naive log reader skips a late commit).
        const writerStore = opened.slowWriter?.() ?? store;

        const shared = [streamName('shared-a'), streamName('shared-b')];
        const writerStream = (writer: number) => (writer < 10 ? shared[writer % 2]! : streamName(`solo-${writer}`));

        let writersDone = false;
        let abandoned = false;
        let expectedTotal = Number.POSITIVE_INFINITY;
        const seen: LoggedEvent[] = [];
        let seenWhileWriting = 0;
        let tailerReads = 0;

        // The tailer sleeps until an append through the store wakes it (on PGlite the writers'
        // promise chains never yield to timers, so only the wake-up lets it read meanwhile).
        let wake: (() => void) | undefined;
        const unsubscribe = writerStore.onAppended(() => wake?.());
        const appendedOrTimeout = (ms: number) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            wake = () => {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            };
          });

        const tailer = (async () => {
          let after = head;
          let deadline = Number.POSITIVE_INFINITY;
          while (!abandoned) {
            const page = await store.readAll(after, 50);
            tailerReads++;
            expect(page.length).to.be.at.most(50);
            if (page.length > 0) {
              seen.push(...page);
              if (!writersDone) seenWhileWriting += page.length;
              after = page.at(-1)!.position;
              continue;
            }
            if (writersDone && seen.length >= expectedTotal) break;
            // Once the writers are done, what they appended must show up soon.
            if (writersDone && deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + 10_000;
            if (Date.now() > deadline) break;
            await appendedOrTimeout(5);
          }
          return after;
        })().finally(unsubscribe);
        tailer.catch(() => {}); // awaited below; do not report a failure as unhandled meanwhile

        const writers = Array.from({ length: WRITERS }, async (_, writer) => {
          const stream = writerStream(writer);
          const appendedIds: string[] = [];
          let expected = 0;
          let conflicts = 0;
          let duplicates = 0;
          for (let k = 0; k < APPENDS; k++) {
            const events = Array.from({ length: 1 + ((writer + k) % 3) }, (_, i) => newEvent('Written', { writer, k, i }));
            for (let attempt = 0; ; attempt++) {
              expect(attempt, 'too many conflicts').to.be.below(5_000);
              try {
                const result = await writerStore.append(stream, expected, events);
                expect(result).to.deep.equal({ nextVersion: expected + events.length, duplicate: false });
                appendedIds.push(...events.map((e) => e.id));
                // Now and then the client retries an append that landed (a lost response).
                if (k % 5 === 0) {
                  expect(await writerStore.append(stream, expected, events)).to.deep.equal({ nextVersion: result.nextVersion, duplicate: true });
                  duplicates++;
                }
                expected = result.nextVersion;
                break;
              } catch (error) {
                if (!(error instanceof WrongExpectedVersion)) throw error;
                expect(error.currentVersion).to.be.greaterThan(expected);
                expected = error.currentVersion;
                conflicts++;
              }
            }
          }
          return { stream, appendedIds, conflicts, duplicates };
        });

        // Wait for every writer even when one fails, so none keeps appending into later tests.
        const settled = await Promise.allSettled(writers);
        writersDone = true;
        const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failure) {
          abandoned = true;
          await tailer.catch(() => {});
          throw failure.reason;
        }
        const results = settled.map((s) => (s as PromiseFulfilledResult<Awaited<(typeof writers)[number]>>).value);
        const appendedIds = results.flatMap((r) => r.appendedIds);
        expectedTotal = appendedIds.length;
        const last = await tailer;

        // Writers on the same stream did collide, so the expected-version path was exercised.
        expect(results.slice(0, 10).reduce((sum, r) => sum + r.conflicts, 0)).to.be.greaterThan(0);
        expect(results.reduce((sum, r) => sum + r.duplicates, 0)).to.equal(WRITERS * 5);
        expect(tailerReads).to.be.greaterThan(1);
        expect(seenWhileWriting, 'the tailer read while writers were appending').to.be.greaterThan(0);

        // Exactly once: no loss, no duplicate, nothing foreign.
        const seenIds = seen.map((e) => e.id);
        expect(new Set(seenIds).size, 'no event read twice').to.equal(seenIds.length);
        expect(seen.length, 'every appended event read').to.equal(expectedTotal);
        expect([...seenIds].sort()).to.deep.equal([...appendedIds].sort());
        expectStrictlyIncreasing(seen);
        expect(await store.readAll(last, 50)).to.deep.equal([]);

        // Per stream: versions 1..n, in log order, matching readStream and streamInfo.
        const streams = [...new Set(results.map((r) => r.stream))];
        expect(streams).to.have.length(2 + (WRITERS - 10));
        for (const stream of streams) {
          const inLog = seen.filter((e) => e.streamId === stream);
          const reported = results.filter((r) => r.stream === stream).reduce((sum, r) => sum + r.appendedIds.length, 0);
          expect(inLog.map((e) => e.version), stream).to.deep.equal(Array.from({ length: reported }, (_, i) => i + 1));
          const stored = await store.readStream(stream, 1, 10_000);
          expect(stored.map((e) => e.id)).to.deep.equal(inLog.map((e) => e.id));
          expect((await store.streamInfo(stream)).version).to.equal(reported);
        }
      });

    });
  });
}
