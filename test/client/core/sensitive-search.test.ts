import { expect } from 'chai';
import { MemoryReplicaStore } from '../../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../../src/client/sync/sync-engine.js';
import { MemoryLog } from '../../support/memory-transport.js';

const USER = '00000000-0000-4000-8000-000000000003';

/** Search leaves sensitive values out unless asked: a typed 4111 must not find a card by its hidden number. */
describe('client core: search and sensitive values', () => {
  async function vault(): Promise<{ engine: SyncEngine; card: string; mail: string }> {
    const engine = await SyncEngine.open({ store: new MemoryReplicaStore(), transport: new MemoryLog().transport(), userId: USER, clientId: 'test' });
    const card = await engine.create({
      kind: 'card',
      name: 'Visa',
      fields: [
        { name: 'number', value: '4111 1111 1111 1111', sensitive: true },
        { name: 'holder', value: 'Erin Example', sensitive: false },
      ],
    });
    const mail = await engine.create({ kind: 'login', name: 'Mail', fields: [{ name: 'password', value: 'zebra-4111', sensitive: true }] });
    return { engine, card, mail };
  }
  const ids = (result: { hits: Array<{ id: string }> }) => result.hits.map((h) => h.id).sort();

  it('matches names, field names and non-sensitive values, not sensitive values', async () => {
    const { engine, card, mail } = await vault();
    expect(ids(engine.search('4111'))).to.deep.equal([]);
    expect(ids(engine.find('zebra'))).to.deep.equal([]);
    expect(ids(engine.search('erin ex'))).to.deep.equal([card]);
    // A sensitive field's name is no secret.
    expect(ids(engine.search('password'))).to.deep.equal([mail]);
  });

  it('matches sensitive values when asked, and both kinds of search follow edits', async () => {
    const { engine, card, mail } = await vault();
    expect(ids(engine.search('4111', { includeSensitive: true }))).to.deep.equal([card, mail].sort());
    expect(engine.search('4111 1111', { includeSensitive: true }).hits[0]).to.deep.include({ id: card, matched: 'field', field: 'number' });
    await engine.update(card, { setFields: [{ name: 'number', value: '5500 0000 0000 0004', sensitive: true }] });
    await engine.update(mail, { setFields: [{ name: 'note', value: 'old pin 4111', sensitive: false }] });
    expect(ids(engine.search('4111', { includeSensitive: true }))).to.deep.equal([mail]);
    expect(ids(engine.search('4111'))).to.deep.equal([mail]);
    expect(ids(engine.search('5500'))).to.deep.equal([]);
    expect(ids(engine.search('5500', { includeSensitive: true }))).to.deep.equal([card]);
  });
});
