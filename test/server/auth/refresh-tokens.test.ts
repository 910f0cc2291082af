import { expect } from 'chai';
import { RefreshTokenError, RefreshTokenStore, hashToken } from '../../../src/server/auth/refresh-tokens.js';
import { UserStore } from '../../../src/server/auth/users.js';
import type { Database } from '../../../src/server/sql/database.js';
import { databaseTargets } from '../../support/databases.js';
import { FakeClock, rejection } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await rejection(promise);
  expect(error).to.be.instanceOf(RefreshTokenError);
  return (error as RefreshTokenError).reason;
}

for (const target of databaseTargets) {
  describe(`auth RefreshTokenStore (${target.name})`, () => {
    let db: Database;
    let clock: FakeClock;
    let store: RefreshTokenStore;
    let userId: string;

    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await target.dispose(db);
    });
    beforeEach(async () => {
      clock = new FakeClock();
      store = new RefreshTokenStore(db, { now: clock.now });
      userId = await new UserStore(db).create(`user-${Math.random().toString(36).slice(2)}`, 'hash');
    });

    it('issues an opaque 32-byte base64url token, storing only its SHA-256', async () => {
      const issued = await store.issue(userId);
      expect(issued.token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(issued.token, 'base64url')).to.have.length(32);
      expect(issued.expiresAt).to.equal(clock.time + 30 * DAY);
      expect(issued.userId).to.equal(userId);
      const rows = await db.query<Record<string, unknown>>(`SELECT * FROM refresh_tokens WHERE family_id = $1`, [issued.familyId]);
      expect(rows).to.have.length(1);
      expect(rows[0]?.token_hash).to.equal(hashToken(issued.token));
      expect(JSON.stringify(rows)).not.to.include(issued.token);
    });

    it('issues into a given family', async () => {
      const first = await store.issue(userId);
      const second = await store.issue(userId, first.familyId);
      expect(second.familyId).to.equal(first.familyId);
      expect(second.token).not.to.equal(first.token);
    });

    it('rotates: the presented token is used up, the next one is in the same family', async () => {
      const first = await store.issue(userId);
      clock.advance(DAY);
      const second = await store.rotate(first.token);
      expect(second).to.include({ familyId: first.familyId, userId });
      expect(second.token).not.to.equal(first.token);
      expect(second.expiresAt).to.equal(clock.time + 30 * DAY);
      const third = await store.rotate(second.token);
      expect(third.familyId).to.equal(first.familyId);
      const [row] = await db.query<{ used_at: Date | null }>(`SELECT used_at FROM refresh_tokens WHERE token_hash = $1`, [hashToken(first.token)]);
      expect(row?.used_at).to.be.instanceOf(Date);
    });

    it('on reuse of a used token after the reuse window, revokes the whole family: the newer token fails too', async () => {
      const first = await store.issue(userId);
      const second = await store.rotate(first.token);
      const other = await store.issue(userId); // another session of the same user
      clock.advance(10_001);
      expect(await reason(store.rotate(first.token))).to.equal('reused');
      const ended = await rejection(store.rotate(second.token));
      expect(ended).to.include({ reason: 'ended', endReason: 'reuse' });
      const rows = await db.query<{ revoked: boolean }>(
        `SELECT revoked_at IS NOT NULL AS revoked FROM refresh_tokens WHERE family_id = $1`,
        [first.familyId],
      );
      expect(rows.map((r) => r.revoked)).to.deep.equal([true, true]);
      // other families are untouched
      expect((await store.rotate(other.token)).familyId).to.equal(other.familyId);
    });

    it('within the reuse window gives a used token its same successor, stored only hashed and sealed', async () => {
      const first = await store.issue(userId);
      const second = await store.rotate(first.token);
      clock.advance(10_000);
      const again = await store.rotate(first.token);
      expect(again).to.deep.equal(second);
      const rows = await db.query<Record<string, unknown>>(`SELECT * FROM refresh_tokens WHERE family_id = $1`, [first.familyId]);
      const text = JSON.stringify(rows);
      expect(text).not.to.include(second.token);
      expect(text).not.to.include(first.token);
      const [used] = rows.filter((r) => r.token_hash === hashToken(first.token));
      expect(used?.successor_hash).to.equal(hashToken(second.token));
      expect(used?.successor_sealed).to.be.a('string');
      // a sealed successor opens only with the token it replaces: tampering gives no token back
      await db.query(`UPDATE refresh_tokens SET successor_sealed = $2 WHERE token_hash = $1`, [hashToken(first.token), 'A'.repeat(60)]);
      expect(await reason(store.rotate(first.token))).to.equal('reused');
    });

    it('with a reuse window of 0, any second use revokes the family', async () => {
      const strict = new RefreshTokenStore(db, { reuseWindowSeconds: 0, now: clock.now });
      const first = await strict.issue(userId);
      await strict.rotate(first.token);
      clock.advance(1);
      expect(await reason(strict.rotate(first.token))).to.equal('reused');
    });

    it('refuses an expired token', async () => {
      const store1s = new RefreshTokenStore(db, { ttlSeconds: 1, now: clock.now });
      const issued = await store1s.issue(userId);
      expect(issued.expiresAt).to.equal(clock.time + 1_000);
      clock.advance(1_000);
      expect(await reason(store1s.rotate(issued.token))).to.equal('expired');
      // an expired token is not "used": nothing was revoked
      const [row] = await db.query<{ used_at: Date | null; revoked_at: Date | null }>(
        `SELECT used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1`,
        [hashToken(issued.token)],
      );
      expect(row).to.deep.equal({ used_at: null, revoked_at: null });
    });

    it('refuses an unknown token', async () => {
      expect(await reason(store.rotate('A'.repeat(43)))).to.equal('invalid');
      expect(await reason(store.rotate(''))).to.equal('invalid');
    });

    it('revokes a family on logout', async () => {
      const first = await store.issue(userId);
      const second = await store.rotate(first.token);
      expect(await store.revokeFamily(second.token)).to.equal(first.familyId);
      const ended = await rejection(store.rotate(second.token));
      expect(ended).to.include({ reason: 'ended', endReason: 'logout', message: 'session ended: logged out' });
      expect(await reason(store.rotate(first.token))).to.equal('ended');
      expect(await store.revokeFamily('unknown')).to.equal(null);
    });

    it('answers concurrent rotations of one token with one successor, and the session goes on', async () => {
      const first = await store.issue(userId);
      const results = await Promise.all(Array.from({ length: 6 }, () => store.rotate(first.token)));
      expect(new Set(results.map((r) => r.token)).size).to.equal(1);
      const next = await store.rotate(results[0]!.token);
      expect(next.familyId).to.equal(first.familyId);
    });

    it('never leaves a live token when a reuse after the window races a legitimate rotation', async () => {
      for (let round = 0; round < 10; round += 1) {
        const first = await store.issue(userId);
        const second = await store.rotate(first.token);
        clock.advance(10_001);
        await Promise.allSettled([store.rotate(second.token), store.rotate(first.token)]);
        const live = await db.query(
          `SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND used_at IS NULL AND revoked_at IS NULL`,
          [first.familyId],
        );
        expect(live, `round ${round}`).to.have.length(0);
      }
    });

    it('purges only families whose every token has expired', async () => {
      const store1s = new RefreshTokenStore(db, { ttlSeconds: 10, now: clock.now });
      const dead = await store1s.issue(userId);
      const live = await store1s.issue(userId);
      clock.advance(5_000);
      await store1s.rotate(live.token); // the family now has a token valid until +15 s
      clock.advance(6_000);
      const before = await db.query(`SELECT 1 FROM refresh_tokens WHERE family_id = $1`, [live.familyId]);
      expect(await store1s.purgeExpired()).to.be.at.least(1);
      expect(await db.query(`SELECT 1 FROM refresh_tokens WHERE family_id = $1`, [dead.familyId])).to.have.length(0);
      expect(await db.query(`SELECT 1 FROM refresh_tokens WHERE family_id = $1`, [live.familyId])).to.have.length(before.length);
    });

    it('refuses a non-positive TTL and a negative reuse window', () => {
      expect(() => new RefreshTokenStore(db, { ttlSeconds: 0 })).to.throw(RangeError);
      expect(() => new RefreshTokenStore(db, { reuseWindowSeconds: -1 })).to.throw(RangeError);
    });
  });
}
