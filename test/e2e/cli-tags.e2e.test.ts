import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

/** Tags, favourites and one-time-code fields through the real `keeper` command and server. */
describe('keeper CLI: tags, favourites and one-time-code fields', function () {
  this.timeout(120_000);
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;
  const PASSWORD = 'correct horse battery';

  before(async () => {
    server = await startTestServer(pgliteTarget);
    home = await mkdtemp(join(tmpdir(), 'keeper-cli-tags-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    expect((await keeper(['register', '--login', 'tagger'], env, `${PASSWORD}\n`)).code).to.equal(0);
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('adds tags and a star, filters by them, changes them, and keeps a one-time-code field sealed away', async () => {
    const mail = await keeper(['add', 'Mail', '--kind', 'login', '--field', 'user=me', '--tag', 'Work', '--tag', 'mail', '--favourite', '--totp', 'otp=jbsw y3dp ehpk 3pxp'], env);
    expect(mail.code, mail.stderr).to.equal(0);
    expect((await keeper(['add', 'Bank', '--kind', 'login', '--tag', 'money'], env)).code).to.equal(0);
    expect((await keeper(['add', 'Diary', '--kind', 'note'], env)).code).to.equal(0);

    const all = await keeper(['ls'], env);
    // The starred record comes first and is marked; tags are a column.
    const lines = all.stdout.split('\n');
    expect(lines[1]).to.match(/\* Mail\s+Work, mail/);
    expect(all.stdout).to.match(/Bank\s+money/);

    const work = await keeper(['ls', '--tag', 'work'], env);
    expect(work.stdout).to.contain('Mail');
    expect(work.stdout).to.not.contain('Bank');
    expect(work.stdout).to.contain('1 record tagged "work"');
    expect((await keeper(['ls', '--favourites'], env)).stdout).to.match(/Mail[\s\S]*1 record starred/);
    expect((await keeper(['ls', '--tag', 'nothing'], env)).stdout).to.contain('no records tagged "nothing"');

    const shown = await keeper(['show', 'mail'], env);
    expect(shown.stdout).to.contain('* Mail  (login, favourite)');
    expect(shown.stdout).to.contain('tags     Work, mail');
    expect(shown.stdout).to.match(/otp\s+\*{8}\s+\(one-time code: keeper code\)/);
    const json = JSON.parse((await keeper(['show', 'mail', '--json', '--reveal'], env)).stdout);
    expect(json.tags).to.deep.equal(['Work', 'mail']);
    expect(json.favourite).to.equal(true);
    expect(json.fields[1]).to.deep.equal({ name: 'otp', value: 'JBSWY3DPEHPK3PXP', sensitive: true, kind: 'totp' });

    const tagged = await keeper(['tag', 'mail', 'Personal', '--remove', 'WORK'], env);
    expect(tagged.code, tagged.stderr).to.equal(0);
    expect(tagged.stdout).to.contain('mail, Personal');
    expect((await keeper(['tag', 'mail'], env)).stdout.trim()).to.equal('mail, Personal');
    const edited = await keeper(['edit', 'mail', '--no-favourite', '--untag', 'mail', '--tag', 'money'], env);
    expect(edited.code, edited.stderr).to.equal(0);
    const after = JSON.parse((await keeper(['show', 'mail', '--json'], env)).stdout);
    expect(after).to.deep.include({ tags: ['Personal', 'money'], favourite: false });

    const tags = await keeper(['tags'], env);
    expect(tags.stdout).to.match(/money\s+2/);
    expect(tags.stdout).to.match(/Personal\s+1/);

    // What the server holds (a second device lists it) has the same tags and the field's kind.
    await server.projected();
    const other = await server.client();
    await other.login('tagger', PASSWORD);
    const listed = await other.list();
    const onServer = listed.records.find((r) => r.name === 'Mail')!;
    expect(onServer.tags).to.deep.equal(['Personal', 'money']);
    expect(onServer.fields.find((f) => f.name === 'otp')).to.deep.include({ kind: 'totp', sensitive: true });
    other.close();
  });

  it('refuses a bad one-time-code secret and a bad tag with a sentence', async () => {
    expectSentence(await keeper(['add', 'X', '--totp', 'otp=not-base32!'], env), 2, /--totp otp: not a one-time-code secret/);
    expectSentence(await keeper(['add', 'X', '--tag', 'x'.repeat(51)], env), 2, /tags\.0: must be at most 50 characters/);
    expectSentence(await keeper(['edit', 'diary'], env), 2, /nothing to change: .*--tag, --untag or --favourite/);
  });

  it('seals tags when the vault is encrypted: the server sees none of them, the unlocked CLI filters by them', async () => {
    const home2 = await mkdtemp(join(tmpdir(), 'keeper-cli-tags-'));
    const env2 = { KEEPER_SERVER: server.address, KEEPER_HOME: home2 };
    try {
      expect((await keeper(['register', '--login', 'sealer'], env2, `${PASSWORD}\n`)).code).to.equal(0);
      expect((await keeper(['add', 'Clinic', '--tag', 'health'], env2)).code).to.equal(0);
      const encrypted = await keeper(['encrypt'], env2, 'moon river lantern\n');
      expect(encrypted.code, encrypted.stderr).to.equal(0);
      expect(encrypted.stdout).to.contain('1 record(s) re-written sealed');
      const unlocked = await keeper(['unlock'], env2, 'moon river lantern\n');
      const session = { ...env2, KEEPER_SESSION: /KEEPER_SESSION="([^"]+)"/.exec(unlocked.stdout)![1]! };
      expect((await keeper(['add', 'Gym', '--tag', 'Health', '--tag', 'sport'], session)).code).to.equal(0);
      expect((await keeper(['ls', '--tag', 'HEALTH'], session)).stdout).to.match(/Clinic[\s\S]*Gym[\s\S]*2 records tagged/);

      await server.projected();
      const other = await server.client();
      await other.login('sealer', PASSWORD);
      const listed = await other.list();
      const tags = listed.records.flatMap((r) => r.tags);
      expect(tags).to.have.length(3);
      for (const tag of tags) expect(tag).to.match(/^kpr1\./);
      other.close();

      // Locked, sealed tags are said to be unreadable, and adding one needs the key.
      await keeper(['lock'], env2);
      expect((await keeper(['tag', 'gym'], env2, '\n')).code).to.not.equal(0);
      expectSentence(await keeper(['tag', 'gym', 'x'], { ...env2, KEEPER_SESSION: session.KEEPER_SESSION }), 2, /secret word is needed/);
    } finally {
      await rm(home2, { recursive: true, force: true });
    }
  });
});
