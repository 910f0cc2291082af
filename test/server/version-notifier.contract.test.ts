import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import type { Database, SqlExecutor } from '../../src/server/sql/database.js';
import type { VersionChange, VersionNotifier, VersionSubscriber } from '../../src/server/watch/port.js';
import { InProcessVersionNotifier } from '../../src/server/watch/in-process-notifier.js';
import { decodeChange, encodeChange, PgVersionNotifier } from '../../src/server/watch/pg-notifier.js';
import { postgresTarget } from '../support/databases.js';
import { capturedLogger, eventually } from '../support/eventually.js';

/**
 * The VersionNotifier contract, run against both adapters: in-process (PGlite; publisher and
 * subscriber are one process) and PostgreSQL LISTEN/NOTIFY (two notifiers on two pools, as two
 * server processes have), the latter when KEEPER_DATABASE_URL is set. Each run uses a channel of
 * its own, so suites sharing the database do not hear each other.
 */
const pgUrl = process.env.KEEPER_DATABASE_URL;

interface Pair {
  publisher: VersionNotifier;
  subscriber: VersionNotifier;
  close(): Promise<void>;
}

interface Adapter {
  name: string;
  pair(): Promise<Pair>;
}

function testChannel(): string {
  return `keeper_user_version_test_${randomBytes(6).toString('hex')}`;
}

const adapters: Adapter[] = [
  {
    name: 'in-process',
    async pair() {
      const notifier = new InProcessVersionNotifier();
      return { publisher: notifier, subscriber: notifier, close: () => notifier.close() };
    },
  },
];
if (postgresTarget && pgUrl) {
  const target = postgresTarget;
  adapters.push({
    name: 'PostgreSQL LISTEN/NOTIFY',
    async pair() {
      const channel = testChannel();
      const dbA = await target.open();
      const dbB = await target.reopen!(dbA);
      const publisher = new PgVersionNotifier({ url: pgUrl, db: dbA, channel });
      const subscriber = new PgVersionNotifier({ url: pgUrl, db: dbB, channel });
      return {
        publisher,
        subscriber,
        async close() {
          await publisher.close();
          await subscriber.close();
          await dbB.close();
          await target.dispose(dbA);
        },
      };
    },
  });
}

/** A subscriber that keeps what it is told. */
function recorder(): VersionSubscriber & { changes: VersionChange[]; missedCount: number; latest(userId: string): number | undefined } {
  const changes: VersionChange[] = [];
  return {
    changes,
    missedCount: 0,
    changed(change) {
      changes.push(change);
    },
    missed() {
      this.missedCount += 1;
    },
    latest(userId) {
      return changes.filter((change) => change.userId === userId).at(-1)?.version;
    },
  };
}

for (const adapter of adapters) {
  describe(`VersionNotifier contract (${adapter.name})`, function () {
    let pair: Pair;
    beforeEach(async () => {
      pair = await adapter.pair();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('tells a published change to every subscriber, with its user and version', async () => {
      const [first, second] = [recorder(), recorder()];
      pair.subscriber.subscribe(first);
      pair.subscriber.subscribe(second);
      await pair.subscriber.ready();
      const userId = randomUUID();
      pair.publisher.publish({ userId, version: 7 });
      for (const each of [first, second]) await eventually('the change', () => each.latest(userId), 2_000);
      expect(first.changes.filter((change) => change.userId === userId)).to.deep.equal([{ userId, version: 7 }]);
      expect(second.changes.filter((change) => change.userId === userId)).to.deep.equal([{ userId, version: 7 }]);
    });

    it('tells the latest version of each user after a burst, and no version that was not published', async () => {
      const heard = recorder();
      pair.subscriber.subscribe(heard);
      await pair.subscriber.ready();
      const [alice, bob] = [randomUUID(), randomUUID()];
      for (let version = 1; version <= 50; version++) pair.publisher.publish({ userId: alice, version });
      pair.publisher.publish({ userId: bob, version: 3 });
      await eventually("alice's last version", () => (heard.latest(alice) === 50 ? true : undefined), 2_000);
      await eventually("bob's version", () => (heard.latest(bob) === 3 ? true : undefined), 2_000);
      const aliceVersions = heard.changes.filter((change) => change.userId === alice).map((change) => change.version);
      expect(aliceVersions.every((version) => Number.isInteger(version) && version >= 1 && version <= 50), String(aliceVersions)).to.equal(true);
      expect(heard.changes.filter((change) => change.userId === bob).map((change) => change.version)).to.deep.equal([3]);
    });

    it('stops telling a subscriber once it unsubscribed', async () => {
      const [gone, staying] = [recorder(), recorder()];
      const unsubscribe = pair.subscriber.subscribe(gone);
      pair.subscriber.subscribe(staying);
      await pair.subscriber.ready();
      unsubscribe();
      const userId = randomUUID();
      pair.publisher.publish({ userId, version: 1 });
      await eventually('the change at the subscriber that stayed', () => staying.latest(userId), 2_000);
      expect(gone.changes.filter((change) => change.userId === userId)).to.deep.equal([]);
    });

    it('publishes without throwing or making the caller wait, even once closed', async () => {
      const userId = randomUUID();
      expect(pair.publisher.publish({ userId, version: 1 })).to.equal(undefined);
      await pair.publisher.close();
      expect(() => pair.publisher.publish({ userId, version: 2 })).to.not.throw();
    });
  });
}

describe('PgVersionNotifier payloads', () => {
  it('reads back what it writes and ignores payloads no Keeper server sent', () => {
    const userId = randomUUID();
    expect(decodeChange(encodeChange({ userId, version: 42 }))).to.deep.equal({ userId, version: 42 });
    for (const foreign of ['', 'hello', `${userId}:`, `${userId}:-1`, `${userId}:1.5`, `${userId}:99999999999999999999`, ':5']) {
      expect(decodeChange(foreign), foreign).to.equal(undefined);
    }
  });
});

if (postgresTarget && pgUrl) {
  const target = postgresTarget;
  describe('PgVersionNotifier on PostgreSQL faults', function () {
    let dbA: Database;
    let dbB: Database;
    let admin: pg.Client;
    before(async () => {
      dbA = await target.open();
      dbB = await target.reopen!(dbA);
      admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await dbB?.close();
      if (dbA) await target.dispose(dbA);
    });

    it('listens again after its connection is terminated: one line lost, one back, missed() once back, and later changes heard', async () => {
      const channel = testChannel();
      const applicationName = `keeper-test-${randomBytes(4).toString('hex')}`;
      const { logger, lines } = capturedLogger('info');
      const publisher = new PgVersionNotifier({ url: pgUrl, db: dbA, channel });
      const subscriber = new PgVersionNotifier({ url: pgUrl, db: dbB, channel, applicationName, logger });
      try {
        const heard = recorder();
        subscriber.subscribe(heard);
        await subscriber.ready();
        await eventually('missed() after the first LISTEN', () => (heard.missedCount === 1 ? true : undefined));

        const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
        expect(killed.rows.map((row) => row.ok)).to.deep.equal([true]);
        // A change made while nobody listens is not heard as such: missed() stands for it.
        const userId = randomUUID();
        publisher.publish({ userId, version: 1 });
        await eventually('missed() after listening again', () => (heard.missedCount === 2 ? true : undefined), 10_000);
        await eventually('a backend listening again', async () => {
          const rows = await admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
          return rows.rowCount === 1 ? true : undefined;
        });

        publisher.publish({ userId, version: 2 });
        await eventually('a change after the reconnect', () => (heard.latest(userId) === 2 ? true : undefined), 2_000);
        const warnings = lines.filter((line) => line.level >= 40).map((line) => line.msg);
        expect(warnings).to.have.length(2);
        expect(warnings[0]).to.match(/^the connection that hears vault changes from other servers \(PostgreSQL LISTEN\) is unavailable; retrying/);
        expect(warnings[1]).to.match(/is back after/);
      } finally {
        await publisher.close();
        await subscriber.close();
      }
    });

    it('sends again a NOTIFY that met a transient fault, rather than losing it', async () => {
      const channel = testChannel();
      let failuresLeft = 2;
      const flaky: SqlExecutor = {
        query: (text, params, options) => {
          if (failuresLeft-- > 0) return Promise.reject(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
          return dbA.query(text, params, options);
        },
      };
      const publisher = new PgVersionNotifier({ url: pgUrl, db: flaky, channel });
      const subscriber = new PgVersionNotifier({ url: pgUrl, db: dbB, channel });
      try {
        const heard = recorder();
        subscriber.subscribe(heard);
        await subscriber.ready();
        const userId = randomUUID();
        publisher.publish({ userId, version: 5 });
        await eventually('the change, sent again', () => heard.latest(userId), 5_000);
        expect(failuresLeft).to.be.lessThan(0);
      } finally {
        await publisher.close();
        await subscriber.close();
      }
    });

    it('closes promptly while it cannot reach the database', async () => {
      const subscriber = new PgVersionNotifier({ url: 'postgres://nobody@127.0.0.1:1/none', db: dbB, channel: testChannel(), logger: capturedLogger().logger });
      subscriber.subscribe(recorder());
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      await subscriber.close();
      expect(Date.now() - started).to.be.lessThan(1_000);
    });
  });
}
