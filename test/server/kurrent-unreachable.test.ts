import { createServer } from 'node:net';
import { expect } from 'chai';
import { openEventStore } from '../../src/server/eventstore/open-event-store.js';
import { EventStoreUnavailable, LOG_START } from '../../src/server/eventstore/port.js';
import { isTransientDatabaseError } from '../../src/server/sql/transient-errors.js';

/** A free loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * The KurrentDB adapter with no server behind it (none can run on these machines; the contract
 * suite runs against a real one when KEEPER_EVENTSTORE_URL is set): every call fails soon, as a
 * transient fault the callers already retry, never a hang or an INTERNAL error.
 */
describe('the KurrentDB event store when KurrentDB is out of reach', function () {
  this.timeout(30_000);

  it('answers every call with EventStoreUnavailable, which counts as a transient fault', async () => {
    const { store, close } = await openEventStore({ eventStoreUrl: `kurrentdb://127.0.0.1:${await closedPort()}?tls=false` });
    try {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['append', () => store.append('user-x', 0, [{ id: '00000000-0000-4000-8000-000000000001', type: 'T', data: {}, metadata: {} }])],
        ['readStream', () => store.readStream('user-x', 1, 10)],
        ['readAll', () => store.readAll(LOG_START, 10)],
        ['streamInfo', () => store.streamInfo('user-x')],
      ];
      for (const [name, call] of calls) {
        const started = Date.now();
        const error = await call().then(
          () => expect.fail(`${name} succeeded with no server`),
          (e: unknown) => e,
        );
        expect(error, name).to.be.instanceOf(EventStoreUnavailable);
        expect(isTransientDatabaseError(error), name).to.equal(true);
        expect(Date.now() - started, name).to.be.below(15_000);
      }
    } finally {
      await close();
    }
  });
});
