import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { auditHistory, auditVerify } from '../../src/cli/audit-commands.js';
import { decideAttachImage, decideDetachImage, decideRenditions, type RenditionInfo } from '../../src/domain/images.js';
import { Projector } from '../../src/projections/projector.js';
import { UserStore } from '../../src/server/auth/users.js';
import { SqlEventStore } from '../../src/server/eventstore/sql.js';
import { VaultService } from '../../src/server/vault/vault-service.js';
import { auditTargets, collector, settle, type AuditDatabases } from './support.js';
import { CliError } from '../../src/client/cli/exit-codes.js';

const rendition = (seed: string, type = 'image/jpeg', width = 120, height = 120, size = 4000): RenditionInfo => ({
  address: seed.repeat(64).slice(0, 64),
  type,
  width,
  height,
  size,
});

for (const target of auditTargets) {
  describe(`keeper audit over images (${target.name})`, function () {
    this.timeout(60_000);
    let dbs: AuditDatabases;
    let userId: string;
    const recordId = randomUUID();
    const kept = randomUUID();
    const removed = randomUUID();

    before(async () => {
      dbs = await target.open();
      const store = new SqlEventStore(dbs.db);
      const vault = new VaultService(dbs.db, store);
      userId = await new UserStore(dbs.db).create('iris', 'not-a-real-hash');
      await vault.push(userId, {
        expectedVersion: 0,
        clientId: 'laptop',
        commands: [{ type: 'CreateRecord', mutationId: randomUUID(), recordId, kind: 'note', name: 'Scans', fields: [] }],
      });
      for (const [imageId, fileName] of [
        [kept, 'passport.jpg'],
        [removed, 'old.png'],
      ] as const) {
        await vault.record(userId, randomUUID(), 'keeper-images', (state) =>
          decideAttachImage(
            { imageId, recordId, fileName, original: rendition(imageId.slice(0, 1), 'image/jpeg', 4000, 3000, 3_100_000), encrypted: false },
            state.get(recordId),
            state.images.get(imageId),
            state.imagesOf(recordId).length,
          ),
        );
      }
      await vault.record(userId, randomUUID(), 'keeper-imaging', (state) =>
        decideRenditions(state.images.get(kept), { cover: rendition('c'), compact: rendition('d', 'image/jpeg', 4000, 3000, 900_000) }),
      );
      await vault.record(userId, randomUUID(), 'keeper-imaging', (state) => decideRenditions(state.images.get(removed), { failure: 'the image is corrupt' }));
      await vault.record(userId, randomUUID(), 'keeper-images', (state) => decideDetachImage(removed, state.images.get(removed), state.get(recordId)));
      const projector = new Projector(dbs.db, store);
      await settle(dbs.db, projector, [userId]);
    });
    after(async () => dbs.close());

    it('history shows what happened to each image of a record', async () => {
      const out = collector();
      await auditHistory(dbs.audit, { user: 'iris', record: recordId }, out);
      const text = out.text();
      expect(text).to.contain(`image ${kept.slice(0, 8)} attached (passport.jpg, 3100000 bytes)`);
      expect(text).to.contain(`image ${kept.slice(0, 8)}: cover and compact copy made`);
      expect(text).to.contain(`image ${removed.slice(0, 8)}: renditions failed (the image is corrupt)`);
      expect(text).to.contain(`image ${removed.slice(0, 8)} removed`);
    });

    it('verify compares the image rows too, and names a hand-edited one', async () => {
      const agrees = collector();
      await auditVerify(dbs.audit, {}, agrees);
      expect(agrees.text()).to.match(/^the read model agrees with the log: 1 user, 6 events replayed$/);

      await dbs.db.query(`UPDATE rm_images SET status = 'processing', compact = NULL WHERE image_id = $1`, [kept]);
      const out = collector();
      let failure: unknown;
      await auditVerify(dbs.audit, { json: true }, out).catch((error: unknown) => (failure = error));
      expect(failure).to.be.instanceOf(CliError);
      const report = JSON.parse(out.text()) as { differences: Array<{ column: string; expected: string; found: string }> };
      expect(report.differences.map((d) => [d.column, d.expected, d.found])).to.have.deep.members([
        [`rm_images.${kept}.status`, '"ready"', '"processing"'],
        [`rm_images.${kept}.compact`, JSON.stringify(rendition('d', 'image/jpeg', 4000, 3000, 900_000), ['address', 'height', 'size', 'type', 'width']), 'null'],
      ]);
    });
  });
}
