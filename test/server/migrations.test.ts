import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { migrate } from '../../src/server/sql/migrations.js';
import type { Database } from '../../src/server/sql/database.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { databaseTargets } from '../support/databases.js';

for (const target of databaseTargets) {
  describe(`schema migrations (${target.name})`, function () {
    let db: Database;
    before(async () => {
      db = await target.open();
    });
    after(async () => target.dispose(db));

    it('moves a database with store-wide event ids to ids unique per stream, keeping its events', async () => {
      // The database as it was before migration 4: event_id unique across the whole store.
      await db.query(`ALTER TABLE events DROP CONSTRAINT events_stream_event_id`);
      await db.query(`ALTER TABLE events ADD CONSTRAINT events_event_id_key UNIQUE (event_id)`);
      await db.query(`DELETE FROM schema_migrations WHERE id = 4`);
      const store = new SqlEventStore(db);
      const shared = { id: randomUUID(), type: 'Old', data: {}, metadata: {} };
      await store.append('alice', 0, [shared]);
      const before = await store.append('bob', 0, [shared]).then(
        () => 'accepted',
        (error: Error) => error.name,
      );
      expect(before, 'the old schema refuses the id in another stream').to.equal('DuplicateEventId');

      await migrate(db);
      expect(await store.append('bob', 0, [shared])).to.deep.equal({ nextVersion: 1, duplicate: false });
      expect(await store.append('alice', 0, [shared])).to.deep.equal({ nextVersion: 1, duplicate: true });
      expect((await store.readStream('alice', 1, 10)).map((e) => e.id)).to.deep.equal([shared.id]);
      expect((await db.query<{ id: number }>(`SELECT id FROM schema_migrations ORDER BY id`)).map((r) => r.id)).to.include(4);
    });
  });
}
