import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import * as kdbxweb from 'kdbxweb';
import { parseImport } from '../../../src/client/core/import/parse-import.js';
import { kdbxArgon2 } from '../../../src/client/core/import/kdbx-argon2.js';
import { KeeperFailure } from '../../../src/client/core/failures.js';
import type { ImportItem, ParsedImport } from '../../../src/client/core/import/types.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'import');
const fixture = (name: string) => readFile(join(FIXTURES, name));
const noPassword = async (): Promise<string> => {
  throw new Error('no password should be asked for this format');
};

function byName(parsed: ParsedImport, name: string): ImportItem {
  const found = parsed.items.find((i) => i.name === name);
  expect(found, `item "${name}" among ${parsed.items.map((i) => i.name).join(', ')}`).to.not.equal(undefined);
  return found!;
}

const fieldMap = (item: ImportItem) => Object.fromEntries(item.fields.map((f) => [f.name, [f.value, f.sensitive, Boolean(f.totp)]]));

async function failure(run: () => Promise<unknown>): Promise<KeeperFailure> {
  try {
    await run();
  } catch (error) {
    expect(error).to.be.instanceOf(KeeperFailure);
    return error as KeeperFailure;
  }
  throw new Error('expected a failure');
}

/** A KDBX 4 file made here with kdbxweb itself (Argon2id through hash-wasm, cheap parameters). */
async function makeKdbx(password: string): Promise<Uint8Array> {
  kdbxweb.CryptoEngine.setArgon2Impl(kdbxArgon2);
  const db = kdbxweb.Kdbx.create(new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString(password)), 'Personal');
  db.setKdf(kdbxweb.Consts.KdfId.Argon2id);
  db.header.kdfParameters!.set('M', kdbxweb.VarDictionary.ValueType.UInt64, new kdbxweb.Int64(1024 * 1024));
  const root = db.getDefaultGroup();
  const work = db.createGroup(root, 'Work');
  const bank = db.createEntry(root);
  bank.fields.set('Title', 'Bank');
  bank.fields.set('UserName', 'ada');
  bank.fields.set('Password', kdbxweb.ProtectedValue.fromString('c0rrect-h0rse'));
  bank.fields.set('URL', 'https://bank.example');
  bank.fields.set('Notes', 'Customer number 5531');
  bank.fields.set('otp', kdbxweb.ProtectedValue.fromString('otpauth://totp/Bank:ada?secret=GEZDGNBVGY3TQOJQ'));
  bank.fields.set('Recovery code', kdbxweb.ProtectedValue.fromString('7788-1122'));
  bank.tags = ['money'];
  const server = db.createEntry(work);
  server.fields.set('Title', 'Build box');
  server.fields.set('UserName', 'deploy');
  server.fields.set('Password', kdbxweb.ProtectedValue.fromString('s3cret'));
  server.fields.set('TimeOtp-Secret-Base32', kdbxweb.ProtectedValue.fromString('JBSWY3DPEHPK3PXP'));
  server.fields.set('TimeOtp-Period', '60');
  server.binaries.set('id_rsa.pub', new Uint8Array([1, 2, 3]).buffer);
  const note = db.createEntry(root);
  note.fields.set('Title', 'Door code');
  note.fields.set('Notes', 'The code is 2580');
  db.createRecycleBin();
  const binned = db.createEntry(root);
  binned.fields.set('Title', 'Old thing');
  db.remove(binned);
  expect(db.header.versionMajor).to.equal(4);
  expect(db.header.kdfParameters!.get('$UUID')).to.satisfy((uuid: ArrayBuffer) => Buffer.from(uuid).toString('base64') === kdbxweb.Consts.KdfId.Argon2id);
  return new Uint8Array(await db.save());
}

describe('import parsers', () => {
  it('reads a Bitwarden JSON export: logins, cards, notes, identities, custom fields, folders, favourites, TOTP', async () => {
    const parsed = await parseImport('bitwarden-json', await fixture('bitwarden.json'), 'bitwarden.json', noPassword);
    expect(parsed.items.map((i) => [i.name, i.kind])).to.deep.equal([
      ['Team mail', 'login'],
      ['Travel card', 'card'],
      ['Wifi at the cabin', 'note'],
      ['Me', 'custom'],
      ['Passkey site', 'login'],
    ]);
    const mail = byName(parsed, 'Team mail');
    expect(mail.sourceId).to.equal('0f6e3c1a-6a53-4b5e-a1f2-7c9d8e0b1a21');
    expect(mail.tags).to.deep.equal(['Work']);
    expect(mail.favourite).to.equal(true);
    expect(fieldMap(mail)).to.deep.equal({
      user: ['support@example.org', false, false],
      password: ['Tr0ub4dor&3-support', true, false],
      url: ['https://mail.example.org', false, false],
      'url 2': ['https://webmail.example.org', false, false],
      totp: ['otpauth://totp/Example:support@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example', true, true],
      notes: ['Shared inbox for the support rota.', false, false],
      PIN: ['4821', true, false],
      Department: ['Support', false, false],
      'Remember me': ['true', false, false],
    });
    expect(fieldMap(byName(parsed, 'Travel card'))).to.deep.equal({
      number: ['4111111111111111', true, false],
      holder: ['Ada Example', false, false],
      expires: ['07/2029', false, false],
      cvv: ['123', true, false],
      brand: ['Visa', false, false],
    });
    expect(byName(parsed, 'Travel card').tags).to.deep.equal(['Home/Bills']);
    expect(fieldMap(byName(parsed, 'Wifi at the cabin'))).to.deep.equal({ text: ['Network: cabin-5G\nKey on the back of the router.', false, false] });
    expect(fieldMap(byName(parsed, 'Me'))).to.include.keys('firstName', 'ssn', 'passportNumber');
    expect(fieldMap(byName(parsed, 'Me')).ssn![1]).to.equal(true);
    const said = parsed.unmapped.map((u) => `${u.item}: ${u.what}`);
    expect(said).to.include.members([
      'Team mail: linked field "Login name": it only points at another value of the item, not kept',
      "Team mail: 1 earlier password(s): Bitwarden's password history is not imported",
      'Passkey site: 1 passkey(s): Keeper does not keep passkeys',
      'Something from the future: not imported: Bitwarden item type 9 is not one Keeper knows',
    ]);
  });

  it('reads a Bitwarden CSV export: several URIs, custom fields, folders, favourites; equal rows stay two items with stable ids', async () => {
    const bytes = await fixture('bitwarden.csv');
    const parsed = await parseImport('bitwarden-csv', bytes, 'bitwarden.csv', noPassword);
    expect(parsed.items.map((i) => [i.name, i.kind])).to.deep.equal([
      ['Team mail', 'login'],
      ['Wifi at the cabin', 'note'],
      ['Router', 'login'],
      ['Router', 'login'],
    ]);
    const mail = byName(parsed, 'Team mail');
    expect(mail.favourite).to.equal(true);
    expect(mail.tags).to.deep.equal(['Work']);
    expect(fieldMap(mail)).to.deep.equal({
      user: ['support@example.org', false, false],
      password: ['Tr0ub4dor&3-support', true, false],
      url: ['https://mail.example.org', false, false],
      'url 2': ['https://webmail.example.org', false, false],
      totp: ['JBSWY3DPEHPK3PXP', true, true],
      notes: ['Shared inbox, support rota', false, false],
      PIN: ['4821', false, false],
      Department: ['Support', false, false],
    });
    expect(fieldMap(parsed.items[2]!).password).to.deep.equal(['pa"ss,word', true, false]);
    expect(parsed.items[2]!.sourceId).to.not.equal(parsed.items[3]!.sourceId);
    const again = await parseImport('bitwarden-csv', bytes, 'bitwarden.csv', noPassword);
    expect(again.items.map((i) => i.sourceId)).to.deep.equal(parsed.items.map((i) => i.sourceId));
  });

  it('reads a KeePassXC CSV export: the group path (without the root) as a tag, TOTP, notes-only entries as notes', async () => {
    const parsed = await parseImport('keepassxc-csv', await fixture('keepassxc.csv'), 'keepassxc.csv', noPassword);
    expect(parsed.items.map((i) => [i.name, i.kind, i.tags])).to.deep.equal([
      ['Bank', 'login', []],
      ['Build box', 'login', ['Work/Servers']],
      ['Door code', 'note', ['Notes']],
    ]);
    expect(fieldMap(byName(parsed, 'Bank')).totp).to.deep.equal(['otpauth://totp/Bank:ada?secret=GEZDGNBVGY3TQOJQ&period=30&digits=6&issuer=Bank', true, true]);
    expect(fieldMap(byName(parsed, 'Build box'))).to.deep.equal({
      user: ['deploy', false, false],
      password: ['s3cret"quoted', true, false],
      url: ['ssh://build.example.org', false, false],
      notes: ['Line one\nLine two', false, false],
    });
    expect(fieldMap(byName(parsed, 'Door code'))).to.deep.equal({ text: ['The code is 2580', false, false] });
  });

  it('reads a KDBX 4 file made with kdbxweb: groups and tags, protected custom fields, both TOTP forms; attachments and the recycle bin reported', async function () {
    this.timeout(30_000);
    const file = await makeKdbx('kdbx file password');
    const parsed = await parseImport('kdbx', file, 'personal.kdbx', async () => 'kdbx file password');
    expect(parsed.items.map((i) => [i.name, i.kind, i.tags]).sort()).to.deep.equal([
      ['Bank', 'login', ['money']],
      ['Build box', 'login', ['Work']],
      ['Door code', 'note', []],
    ]);
    expect(fieldMap(byName(parsed, 'Bank'))).to.deep.equal({
      user: ['ada', false, false],
      password: ['c0rrect-h0rse', true, false],
      url: ['https://bank.example', false, false],
      totp: ['otpauth://totp/Bank:ada?secret=GEZDGNBVGY3TQOJQ', true, true],
      'Recovery code': ['7788-1122', true, false],
      notes: ['Customer number 5531', false, false],
    });
    expect(fieldMap(byName(parsed, 'Build box')).totp).to.deep.equal(['otpauth://totp/Build%20box?secret=JBSWY3DPEHPK3PXP&period=60', true, true]);
    expect(parsed.unmapped.map((u) => `${u.item}: ${u.what}`)).to.include.members([
      'Build box: 1 attachment(s): not imported; attach pictures with keeper image add',
      'personal.kdbx: 1 entry in the recycle bin: not imported',
    ]);
    const wrong = await failure(() => parseImport('kdbx', file, 'personal.kdbx', async () => 'not the password'));
    expect(wrong.kind).to.equal('wrong-secret');
    expect(wrong.message).to.equal('the password of personal.kdbx is wrong (or the file also needs a key file, which Keeper does not take); nothing was imported');
  });

  it('refuses malformed and mismatched files with a sentence naming the file and what was expected', async () => {
    const cases: Array<[Parameters<typeof parseImport>[0], string, RegExp]> = [
      ['bitwarden-json', '{"items": [', /^x\.json is not JSON \(.*\): a Bitwarden \.json export was expected$/],
      ['bitwarden-json', '{"folders": []}', /^x\.json is not a Bitwarden JSON export: items /],
      ['bitwarden-json', '{"encrypted": true, "items": []}', /is an encrypted Bitwarden export: export again choosing the unencrypted \.json format/],
      ['bitwarden-csv', '"Group","Title","Username","Password","URL","Notes"\n"Root","a","b","c","d","e"\n', /^x\.json is not a Bitwarden CSV export: it has no column "folder", "type", "name", "login_username", "login_password"$/],
      ['keepassxc-csv', 'a,b\n"unterminated,1\n', /^x\.json is not a readable CSV file: /],
      ['kdbx', 'this is not a database', /^x\.json is not a KeePass database \(\.kdbx\)$/],
      ['keeper', '{"format": "keeper-export", "v": 2}', /^x\.json is not a Keeper export: v: /],
    ];
    for (const [format, text, pattern] of cases) {
      const error = await failure(() => parseImport(format, Buffer.from(text), 'x.json', async () => 'pw'));
      expect(error.kind, text).to.equal('invalid');
      expect(error.message).to.match(pattern);
    }
  });

  it('keeps what a record can hold: control characters become spaces, repeated names are told apart, too many fields are reported', async () => {
    const fields = Array.from({ length: 103 }, (_, i) => ({ name: 'extra', value: `v${i}`, type: 0 }));
    const file = { encrypted: false, folders: [], items: [{ id: 'x1', type: 1, name: 'Bad\u0007name', favorite: false, login: { username: 'u', password: 'p\u0000w' }, fields }] };
    const parsed = await parseImport('bitwarden-json', Buffer.from(JSON.stringify(file)), 'f.json', noPassword);
    const [only] = parsed.items;
    expect(only!.name).to.equal('Bad name');
    expect(only!.fields).to.have.length(100);
    expect(only!.fields.map((f) => f.name).slice(0, 4)).to.deep.equal(['user', 'password', 'extra', 'extra 2']);
    expect(only!.fields[1]!.value).to.equal('p w');
    expect(parsed.unmapped.filter((u) => u.what.includes('a record holds at most 100 fields'))).to.have.length(5);
  });
});
