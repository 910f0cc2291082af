import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { postgresTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { capturedLogger, eventually, type LogLine } from '../support/eventually.js';
import { PASSWORD, pushNote, watching } from '../support/watching.js';
import type { KeeperClient } from '../../src/client/keeper-client.js';

/**
 * Two server processes' worth of Keeper (two servers, each with its own pool and LISTEN
 * connection) over one real PostgreSQL: a change made through one reaches watchers on the other
 * through NOTIFY, also after the listening connection was cut. Needs KEEPER_DATABASE_URL.
 */
const pgUrl = process.env.KEEPER_DATABASE_URL;

if (postgresTarget && pgUrl) {
  const target = postgresTarget;
  describe('Watch across server replicas (PostgreSQL)', function () {
    let a: TestServer;
    let b: TestServer;
    let admin: pg.Client;
    const listenName = `keeper-test-b-${randomBytes(4).toString('hex')}`;
    let bLog: LogLine[];

    before(async () => {
      a = await startTestServer(target);
      const captured = capturedLogger('warn');
      bLog = captured.lines;
      b = await startTestServer(target, { replicaOf: a, listenName, inlineProjector: false, logger: captured.logger });
      await b.notifier.ready();
      admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await b?.close();
      await a?.close();
    });

    /** One user logged in on both servers: a client of A and a client of B. */
    async function onBoth(): Promise<{ onA: KeeperClient; onB: KeeperClient }> {
      const login = `replica-${randomUUID().slice(0, 8)}`;
      const onA = await a.client();
      await onA.register(login, PASSWORD);
      const onB = await b.client();
      await onB.login(login, PASSWORD);
      return { onA, onB };
    }

    it('tells a watcher on server B of a push through server A within a second, and the other way round', async () => {
      const { onA, onB } = await onBoth();
      const watchB = watching(onB);
      const watchA = watching(onA);
      try {
        await watchB.reaches(0);
        await watchA.reaches(0);
        let pushedAt = Date.now();
        await pushNote(onA, 0);
        expect((await watchB.reaches(1, 1_000)).version).to.equal(1);
        expect(Date.now() - pushedAt).to.be.lessThan(1_000);

        pushedAt = Date.now();
        await pushNote(onB, 1);
        expect((await watchA.reaches(2, 1_000)).version).to.equal(2);
        expect(Date.now() - pushedAt).to.be.lessThan(1_000);
        expect(watchB.seen.map((seen) => seen.version)).to.deep.equal([0, 1, 2]);
      } finally {
        watchA.close();
        watchB.close();
      }
    });

    it("tells no watcher on B of another user's push through A", async () => {
      const one = await onBoth();
      const two = await onBoth();
      const watchOne = watching(one.onB);
      const watchTwo = watching(two.onB);
      try {
        await watchOne.reaches(0);
        await watchTwo.reaches(0);
        await pushNote(two.onA, 0);
        await watchTwo.reaches(1, 1_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(watchOne.seen.map((seen) => seen.version)).to.deep.equal([0]);
      } finally {
        watchOne.close();
        watchTwo.close();
      }
    });

    it("keeps telling B's watchers after B's LISTEN connection is terminated: B stays up, logs the incident once, misses nothing", async () => {
      const { onA, onB } = await onBoth();
      const watch = watching(onB);
      try {
        await watch.reaches(0);
        const linesBefore = bLog.length;
        const killed = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [listenName]);
        expect(killed.rows.map((row) => row.ok)).to.deep.equal([true]);
        // Pushed while B may not be listening: B looks again at its watched users once it is.
        await pushNote(onA, 0);
        expect((await watch.reaches(1, 10_000)).version).to.equal(1);
        await eventually('B listening again', async () => {
          const rows = await admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [listenName]);
          return rows.rowCount === 1 ? true : undefined;
        });
        await eventually('the line saying it is back', () => bLog.slice(linesBefore).find((line) => /PostgreSQL LISTEN\) is back after/.test(line.msg)));

        const pushedAt = Date.now();
        await pushNote(onA, 1);
        expect((await watch.reaches(2, 1_000)).version).to.equal(2);
        expect(Date.now() - pushedAt).to.be.lessThan(1_000);

        expect(await onB.status()).to.include({ version: 2 });
        const incident = bLog.slice(linesBefore).map((line) => line.msg);
        expect(incident).to.have.length(2);
        expect(incident[0]).to.match(/PostgreSQL LISTEN\) is unavailable; retrying/);
        expect(watch.errors).to.deep.equal([]);
        expect(watch.retries, 'the client never saw the fault').to.deep.equal([]);
      } finally {
        watch.close();
      }
    });
  });
}
