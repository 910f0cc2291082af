import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as kdbxweb from 'kdbxweb';
import { kdbxArgon2 } from '../../src/client/core/import/kdbx-argon2.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'import');

interface Shown {
  kind: string;
  name: string;
  tags: string[];
  favourite: boolean;
  fields: Array<{ name: string; value: string; sensitive: boolean; kind?: string }>;
}

describe('keeper import and export against a running server', function () {
  this.timeout(180_000);
  let server: TestServer;
  let work: string;
  const homes: string[] = [];

  async function user(login: string): Promise<Record<string, string>> {
    const home = await mkdtemp(join(tmpdir(), 'keeper-import-cli-'));
    homes.push(home);
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    const registered = await keeper(['register', '--login', login], env, 'correct horse battery\n');
    expect(registered.code, registered.stderr).to.equal(0);
    return env;
  }

  /** Every record as `keeper export` writes it, ids and times left out, in name order. */
  async function records(env: Record<string, string>): Promise<Shown[]> {
    const run = await keeper(['export'], env);
    expect(run.code, run.stderr).to.equal(0);
    const doc = JSON.parse(run.stdout) as { records: Array<Shown & Record<string, unknown>> };
    return doc.records.map(({ kind, name, tags, favourite, fields }) => ({ kind, name, tags, favourite, fields }));
  }

  before(async () => {
    server = await startTestServer(pgliteTarget);
    work = await mkdtemp(join(tmpdir(), 'keeper-import-files-'));
  });
  after(async () => {
    await server.close();
    for (const home of [work, ...homes]) await rm(home, { recursive: true, force: true });
  });

  it('imports a Bitwarden JSON export: a dry run changes nothing, the import creates the records once, the unmapped parts are listed', async () => {
    const env = await user('bwuser');
    const file = join(FIXTURES, 'bitwarden.json');
    const dry = await keeper(['import', 'bitwarden-json', file, '--dry-run'], env);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain('dry run, nothing was changed: 5 item(s) read from the bitwarden-json file');
    expect(dry.stdout).to.contain('would create 5 record(s) (2 login, 1 card, 1 note, 1 custom):');
    expect(dry.stdout).to.match(/login\s+Team mail\s+user, password, url, url 2, totp, notes, PIN, Department, Remember me\s+Work/);
    expect(dry.stdout).to.contain('  Passkey site: 1 passkey(s): Keeper does not keep passkeys');
    expect(dry.stdout).to.contain('  Something from the future: not imported: Bitwarden item type 9 is not one Keeper knows');
    expect((await keeper(['ls'], env)).stdout).to.contain('no records');

    const run = await keeper(['import', 'bitwarden-json', file], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^imported 5 record\(s\) from bitwarden-json \(2 login, 1 card, 1 note, 1 custom\) in 1 push\(es\); version 5$/m);
    const shown = JSON.parse((await keeper(['show', 'Team mail', '--reveal', '--json'], env)).stdout) as Shown;
    expect(shown.tags).to.deep.equal(['Work']);
    expect(shown.favourite).to.equal(true);
    expect(shown.fields.find((f) => f.name === 'totp')).to.deep.include({ kind: 'totp', sensitive: true });
    expect(shown.fields.find((f) => f.name === 'password')).to.deep.include({ value: 'Tr0ub4dor&3-support', sensitive: true });

    const again = await keeper(['import', 'bitwarden-json', file], env);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain('imported 0 record(s) from bitwarden-json; version 5');
    expect(again.stdout).to.contain('5 already in the vault (imported before): left as they are');
    expect((await records(env)).map((r) => r.name)).to.have.length(5);
  });

  it('imports Bitwarden and KeePassXC CSV files and a KDBX 4 file (its password asked for); a wrong password is refused with exit 3', async () => {
    const env = await user('kpuser');
    const bw = await keeper(['import', 'bitwarden-csv', join(FIXTURES, 'bitwarden.csv')], env);
    expect(bw.stdout, bw.stderr).to.contain('imported 4 record(s) from bitwarden-csv (3 login, 1 note)');
    const kp = await keeper(['import', 'keepassxc-csv', join(FIXTURES, 'keepassxc.csv')], env);
    expect(kp.stdout, kp.stderr).to.contain('imported 3 record(s) from keepassxc-csv (2 login, 1 note)');

    kdbxweb.CryptoEngine.setArgon2Impl(kdbxArgon2);
    const db = kdbxweb.Kdbx.create(new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString('file pass 1')), 'Mine');
    db.header.kdfParameters!.set('M', kdbxweb.VarDictionary.ValueType.UInt64, new kdbxweb.Int64(1024 * 1024));
    const entry = db.createEntry(db.createGroup(db.getDefaultGroup(), 'Servers'));
    entry.fields.set('Title', 'Router admin');
    entry.fields.set('UserName', 'admin');
    entry.fields.set('Password', kdbxweb.ProtectedValue.fromString('r0uter!'));
    const kdbx = join(work, 'mine.kdbx');
    await writeFile(kdbx, new Uint8Array(await db.save()));

    expectSentence(await keeper(['import', 'kdbx', kdbx], env, 'wrong pass\n'), 3, /^keeper: the password of mine\.kdbx is wrong \(or the file also needs a key file, which Keeper does not take\); nothing was imported\n$/);
    const imported = await keeper(['import', 'kdbx', kdbx], env, 'file pass 1\n');
    expect(imported.code, imported.stderr).to.equal(0);
    expect(imported.stdout).to.contain('imported 1 record(s) from kdbx (1 login)');
    const router = JSON.parse((await keeper(['show', 'Router admin', '--reveal', '--json'], env)).stdout) as Shown;
    expect(router.tags).to.deep.equal(['Servers']);
    expect(router.fields.find((f) => f.name === 'password')!.value).to.equal('r0uter!');
  });

  it('refuses bad input with a sentence and an exit code', async () => {
    const env = await user('baduser');
    const broken = join(work, 'broken.json');
    await writeFile(broken, '{"items": [');
    expectSentence(await keeper(['import', 'bitwarden-json', broken], env), 2, /broken\.json is not JSON .*: a Bitwarden \.json export was expected/);
    expectSentence(await keeper(['import', 'keepassxc-csv', join(FIXTURES, 'bitwarden.csv')], env), 2, /bitwarden\.csv is not a KeePassXC CSV export: it has no column "Group", "Title"/);
    expectSentence(await keeper(['import', 'lastpass', broken], env), 2, /unknown import format "lastpass": one of bitwarden-json, bitwarden-csv, keepassxc-csv, kdbx, keeper/);
    expectSentence(await keeper(['import', 'bitwarden-json', join(work, 'nothing.json')], env), 4, /cannot read .*nothing\.json: no such file/);
    expectSentence(await keeper(['export', '--format', 'xml'], env), 2, /unknown export format "xml": one of json, csv, encrypted/);
    expectSentence(await keeper(['export', '--format', 'encrypted', '--out', join(work, 'weak.keeper')], env, 'abc\n'), 2, /nothing was exported/);
  });

  it('round trip: what one vault exports (JSON, encrypted) imports into an empty vault as the same records', async () => {
    const source = await user('exporter');
    expect((await keeper(['import', 'bitwarden-json', join(FIXTURES, 'bitwarden.json')], source)).code).to.equal(0);
    expect((await keeper(['add', 'Scratch', '--kind', 'note', '--field', 'text=line one'], source)).code).to.equal(0);
    const expected = await records(source);

    const json = join(work, 'vault.json');
    const plain = await keeper(['export', '--format', 'json', '--out', json], source);
    expect(plain.code, plain.stderr).to.equal(0);
    expect(plain.stderr).to.contain('keeper: warning: this file holds your records in plaintext');
    expect(plain.stdout).to.contain(`exported 6 record(s) to ${json} (json, plaintext)`);
    expect((await stat(json)).mode & 0o777).to.equal(0o600);
    // (The CSV's round trip is the core's test's: test/client/core/import-export.test.ts.)
    const sealed = join(work, 'vault.keeper');
    const encrypted = await keeper(['export', '--format', 'encrypted', '--out', sealed], source, 'a long export passphrase 9\n');
    expect(encrypted.code, encrypted.stderr).to.equal(0);
    expect(encrypted.stderr).to.not.contain('plaintext');
    expect(await readFile(sealed, 'utf8')).to.not.contain('Tr0ub4dor');

    for (const [file, input] of [[json, ''], [sealed, 'a long export passphrase 9\n']] as const) {
      const target = await user(`importer${homes.length}`);
      const run = await keeper(['import', 'keeper', file], target, input);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain('imported 6 record(s) from keeper');
      expect(await records(target), file).to.deep.equal(expected);
    }
    const wrong = await user('wrongpass');
    expectSentence(await keeper(['import', 'keeper', sealed], wrong, 'not the passphrase\n'), 3, /the password of vault\.keeper is wrong/);
  });
});
