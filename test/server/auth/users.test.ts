import { expect } from 'chai';
import { LoginTakenError, UserStore } from '../../../src/server/auth/users.js';
import type { Database } from '../../../src/server/sql/database.js';
import { databaseTargets } from '../../support/databases.js';
import { rejection } from './helpers.js';

for (const target of databaseTargets) {
  describe(`auth UserStore (${target.name})`, () => {
    let db: Database;
    let users: UserStore;

    before(async () => {
      db = await target.open();
      users = new UserStore(db);
    });
    after(async () => {
      await target.dispose(db);
    });

    it('creates a user and finds it by login in any case, keeping the login as given', async () => {
      const userId = await users.create('Alice.Smith', 'hash-1');
      expect(userId).to.match(/^[0-9a-f-]{36}$/);
      for (const login of ['Alice.Smith', 'alice.smith', 'ALICE.SMITH']) {
        const found = await users.findByLogin(login);
        expect(found, login).to.include({ userId, login: 'Alice.Smith', passwordHash: 'hash-1' });
        expect(found?.createdAt).to.be.instanceOf(Date);
      }
      expect(await users.findById(userId)).to.include({ login: 'Alice.Smith' });
    });

    it('finds nothing for an unknown login or id', async () => {
      expect(await users.findByLogin('nobody')).to.equal(null);
      expect(await users.findById('00000000-0000-4000-8000-000000000000')).to.equal(null);
      expect(await users.findById('not-a-uuid')).to.equal(null);
    });

    it('refuses a login taken in another case', async () => {
      await users.create('Bob', 'hash');
      expect(await rejection(users.create('bOB', 'hash'))).to.be.instanceOf(LoginTakenError);
      expect(await rejection(users.create('Bob', 'hash'))).to.be.instanceOf(LoginTakenError);
      const rows = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE lower(login) = 'bob'`);
      expect(rows[0]?.n).to.equal(1);
    });

    it('replaces a password hash', async () => {
      const userId = await users.create('carol', 'old');
      await users.setPasswordHash(userId, 'new');
      expect(await users.findByLogin('carol')).to.include({ passwordHash: 'new' });
    });
  });
}
