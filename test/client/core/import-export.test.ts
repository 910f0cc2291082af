import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { applyImport, planImport, type ImportTarget } from '../../../src/client/core/import/run-import.js';
import { parseImport } from '../../../src/client/core/import/parse-import.js';
import { collectExport } from '../../../src/client/core/export/keeper-export.js';
import { exportCsv, exportEncrypted, exportJson } from '../../../src/client/core/export/export-files.js';
import { KeeperFailure } from '../../../src/client/core/failures.js';
import { MemoryReplicaStore } from '../../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../../src/client/sync/sync-engine.js';
import { MemoryLog } from '../../support/memory-transport.js';

const USER = '00000000-0000-4000-8000-0000000000a1';
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'import');
const noPassword = async (): Promise<string> => {
  throw new Error('not asked');
};

async function target(log: MemoryLog, userId = USER): Promise<ImportTarget & { vault: SyncEngine }> {
  const vault = await SyncEngine.open({ transport: log.transport(), store: new MemoryReplicaStore(), userId, clientId: 'test', kdf: { cost: { N: 2 ** 10 }, allowWeakForTests: true } });
  return { vault, userId, exclusive: (work) => work(vault) };
}

/** The records as a user compares them: kind, name and fields, by name. */
function contents(vault: SyncEngine) {
  return vault
    .records()
    .map((r) => vault.open(r))
    .map((r) => ({ kind: r.kind, name: r.name, tags: r.tags, favourite: r.favourite, fields: r.fields }))
    .sort((a, b) => a.name.localeCompare(b.name) || JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('import and export over an in-memory log', () => {
  it('creates the mapped records a batch a push; running it again creates nothing twice, and a record deleted since is not made again', async () => {
    const log = new MemoryLog();
    const device = await target(log);
    const bytes = await readFile(join(FIXTURES, 'bitwarden.json'));
    const parsed = await parseImport('bitwarden-json', bytes, 'bitwarden.json', noPassword);
    const plan = await planImport(device, parsed, { online: true });
    expect(plan.create).to.have.length(5);
    expect(log.events).to.have.length(0);
    const pushesBefore = log.calls.push;
    const progress: number[] = [];
    const result = await applyImport(device, plan, { batchSize: 2, onProgress: (done) => progress.push(done) });
    expect(result).to.deep.equal({ created: 5, batches: 3, conflicts: [] });
    expect(progress).to.deep.equal([2, 4, 5]);
    expect(log.calls.push - pushesBefore).to.equal(3);
    expect(log.events.filter((e) => e.type === 'RecordCreated')).to.have.length(5);
    const mail = device.vault.open(device.vault.records().find((r) => r.name === 'Team mail')!);
    expect(mail.fields.find((f) => f.name === 'totp')).to.deep.equal({ name: 'totp', value: 'otpauth://totp/Example:support@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example', sensitive: true, kind: 'totp' });
    expect(mail.tags).to.deep.equal(['Work']);
    expect(mail.favourite).to.equal(true);
    expect(device.vault.open(device.vault.records().find((r) => r.name === 'Travel card')!)).to.deep.include({ tags: ['Home/Bills'], favourite: false });

    // Another device of the same user, the same file: every item is found by its derived id.
    const other = await target(log);
    await other.vault.sync();
    const again = await planImport(other, await parseImport('bitwarden-json', bytes, 'bitwarden.json', noPassword), { online: true });
    expect([again.create.length, again.existing.length]).to.deep.equal([0, 5]);
    await other.vault.delete(mail.id);
    await other.vault.sync();
    await device.vault.sync();
    const third = await planImport(device, parsed, { online: true });
    expect([third.create.length, third.existing.length, third.deleted.length]).to.deep.equal([0, 4, 1]);
    expect((await applyImport(device, third)).created).to.equal(0);
    expect(log.events.filter((e) => e.type === 'RecordCreated')).to.have.length(5);

    // Another user importing the same file gets records of their own ids.
    const stranger = await target(new MemoryLog(), '00000000-0000-4000-8000-0000000000b2');
    const theirs = await planImport(stranger, parsed, { online: true });
    expect(theirs.create.map((p) => p.recordId)).to.not.include(mail.id);
  });

  it("two devices importing the same file at once: the second one's creates give way to the first one's records", async () => {
    const log = new MemoryLog();
    const [laptop, phone] = [await target(log), await target(log)];
    const parsed = await parseImport('keepassxc-csv', await readFile(join(FIXTURES, 'keepassxc.csv')), 'keepassxc.csv', noPassword);
    const [first, second] = [await planImport(laptop, parsed, { online: true }), await planImport(phone, parsed, { online: true })];
    await applyImport(laptop, first);
    // The phone planned before the laptop pushed: its batch meets the same ids on the server.
    const pushes = log.calls.push;
    // Not reported as refused changes either: the records are the ones the phone meant.
    expect(await applyImport(phone, second)).to.deep.equal({ created: 3, batches: 1, conflicts: [] });
    expect(phone.vault.pendingCount).to.equal(0);
    expect(log.calls.push - pushes).to.equal(0);
    expect(log.events.filter((e) => e.type === 'RecordCreated')).to.have.length(3);
    expect(phone.vault.records().map((r) => r.name).sort()).to.deep.equal(['Bank', 'Build box', 'Door code']);
  });

  it('keeps a one-time code that is not one as a sensitive text field, and cuts tags to what a record holds, saying so', async () => {
    const device = await target(new MemoryLog());
    const file = { encrypted: false, folders: [{ id: 'f', name: 'A folder whose name is far longer than fifty characters in all' }], items: [{ id: 'a', type: 1, name: 'Site', folderId: 'f', login: { username: 'u', totp: 'not a secret' } }] };
    const plan = await planImport(device, await parseImport('bitwarden-json', Buffer.from(JSON.stringify(file)), 'f.json', noPassword), { online: true });
    const [only] = plan.create;
    expect(only!.input.fields.find((f) => f.name === 'totp')).to.deep.equal({ name: 'totp', value: 'not a secret', sensitive: true });
    expect(only!.input.tags).to.deep.equal(['A folder whose name is far longer than fifty char…']);
    expect(plan.unmapped.map((u) => u.what)).to.deep.equal([
      'field "totp" is not a one-time-code secret Keeper can use (an otpauth://totp/ URI or base32): kept as a sensitive text field',
      'tag "A folder whose name is far longer than fifty characters in all" is longer than 50 characters: kept as "A folder whose name is far longer than fifty char…"',
    ]);
    await applyImport(device, plan);
    expect(device.vault.records()).to.have.length(1);
  });

  it('refuses an item a record cannot hold, with why, and imports the rest', async () => {
    const device = await target(new MemoryLog());
    const file = { encrypted: false, items: [{ id: 'a', type: 2, name: 'x'.repeat(300), notes: 'n' }, { id: 'b', type: 2, name: 'Fine', notes: 'ok' }] };
    const parsed = await parseImport('bitwarden-json', Buffer.from(JSON.stringify(file)), 'f.json', noPassword);
    // Names are cut to the limit by the parser; this one is then fine. A name left empty is named by the item.
    expect(parsed.items[0]!.name).to.have.length(200);
    parsed.items[1]!.fields.push({ name: 'text', value: 'again', sensitive: false });
    const plan = await planImport(device, parsed, { online: true });
    expect(plan.create.map((p) => p.item.name)).to.deep.equal(['x'.repeat(200)]);
    expect(plan.unmapped).to.deep.equal([{ item: 'Fine', what: 'not imported: field "text": duplicate field name "text"' }]);
  });

  it('round trip: an export (JSON, CSV, encrypted) imported into an empty vault gives the same records', async function () {
    this.timeout(30_000);
    const source = await target(new MemoryLog());
    await source.vault.create({
      kind: 'login',
      name: 'Mail',
      fields: [
        { name: 'user', value: 'ann', sensitive: false },
        { name: 'password', value: 'p@ss, "quoted"\nline', sensitive: true },
        { name: 'code', value: 'JBSWY3DPEHPK3PXP', sensitive: true, kind: 'totp' },
      ],
      tags: ['Work', 'mail; and more'],
      favourite: true,
    });
    await source.vault.create({ kind: 'card', name: 'Visa', fields: [{ name: 'number', value: '4111111111111111', sensitive: true }] });
    await source.vault.create({ kind: 'note', name: 'Empty', fields: [] });
    await source.vault.create({ kind: 'custom', name: 'Mail', fields: [{ name: 'a', value: 'twin name', sensitive: false }] });
    await source.vault.sync();
    const doc = await collectExport(source.vault, { history: true });
    expect(doc.records.find((r) => r.name === 'Visa')!.history!.map((v) => v.type)).to.deep.equal(['RecordCreated']);
    const files: Array<[string, string, string | undefined]> = [
      ['json', exportJson(doc), undefined],
      ['csv', exportCsv(doc), undefined],
      ['encrypted', await exportEncrypted(doc, 'export password 42'), 'export password 42'],
    ];
    for (const [format, text, password] of files) {
      const empty = await target(new MemoryLog());
      const parsed = await parseImport('keeper', Buffer.from(text), `vault.${format}`, async () => password!);
      const plan = await planImport(empty, parsed, { online: true });
      await applyImport(empty, plan);
      expect(contents(empty.vault), format).to.deep.equal(contents(source.vault));
      expect(empty.vault.records().map((r) => r.id).sort(), format).to.deep.equal(source.vault.records().map((r) => r.id).sort());
      // Into the vault it came from: everything is already there.
      const back = await planImport(source, parsed, { online: true });
      expect([back.create.length, back.existing.length], format).to.deep.equal([0, 4]);
    }
    expect(files[2]![1]).to.not.include('4111111111111111');
    const wrong = await parseImport('keeper', Buffer.from(files[2]![1]), 'vault.encrypted', async () => 'wrong password').catch((e: unknown) => e);
    expect(wrong).to.be.instanceOf(KeeperFailure);
    expect((wrong as KeeperFailure).kind).to.equal('wrong-secret');
  });

  it('imports into an encrypted vault with sensitive values and tags sealed before they reach the log', async function () {
    this.timeout(30_000);
    const log = new MemoryLog();
    const device = await target(log);
    await device.vault.enableEncryption('a long secret word 7');
    const parsed = await parseImport('bitwarden-json', await readFile(join(FIXTURES, 'bitwarden.json')), 'bitwarden.json', noPassword);
    await applyImport(device, await planImport(device, parsed, { online: true }));
    const logged = JSON.stringify(log.events);
    for (const secret of ['Tr0ub4dor&3-support', '4111111111111111', 'JBSWY3DPEHPK3PXP', 'Home/Bills']) expect(logged).to.not.include(secret);
    const card = device.vault.open(device.vault.records().find((r) => r.name === 'Travel card')!);
    expect(card.tags).to.deep.equal(['Home/Bills']);
    expect(card.fields.find((f) => f.name === 'number')!.value).to.equal('4111111111111111');
  });

  it('exports an encrypted vault only while unlocked, with its sealed values opened', async function () {
    this.timeout(30_000);
    const log = new MemoryLog();
    const device = await target(log);
    await device.vault.create({ kind: 'login', name: 'Mail', fields: [{ name: 'password', value: 'hunter22', sensitive: true }] });
    await device.vault.enableEncryption('a long secret word 7');
    expect(log.events.some((e) => JSON.stringify(e).includes('hunter22') && e.type !== 'RecordCreated')).to.equal(false);
    expect((await collectExport(device.vault)).records[0]!.fields).to.deep.equal([{ name: 'password', value: 'hunter22', sensitive: true }]);
    device.vault.lock();
    const locked = await collectExport(device.vault).catch((e: unknown) => e);
    expect((locked as KeeperFailure).kind).to.equal('locked');
  });
});
