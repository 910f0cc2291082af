import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';

const PASSWORD = 'correct horse battery';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

/** The agent's everyday tools over a real server: tags and favourites, one-time-code fields. */
describe('the HTTP agent: everyday tools (PGlite)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let agent: TestAgent;
  let token: string;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    agent = await startTestAgent(server.address);
    const answer = await call(agent.base, 'POST', '/v1/users', { body: { login: `everyday-${randomUUID().slice(0, 8)}`, password: PASSWORD } });
    expect(answer.status, answer.text).to.equal(201);
    token = answer.body.token;
  });
  after(async () => {
    await agent?.close();
    await server?.close();
  });

  const create = async (body: unknown) => {
    const answer = await call(agent.base, 'POST', '/v1/records', { token, body });
    expect(answer.status, answer.text).to.equal(201);
    return answer.body.record as { id: string; tags: string[]; favourite: boolean; fields: Array<{ name: string; kind: string; value: string | null; hidden: string | null }> };
  };

  it('creates records with tags and a star, filters the list by them, and changes them', async () => {
    const mail = await create({
      kind: 'login',
      name: 'Mail',
      fields: [{ name: 'otp', value: TOTP_SECRET, sensitive: true, kind: 'totp' }],
      tags: ['Work', 'mail'],
      favourite: true,
    });
    expect(mail).to.deep.include({ tags: ['Work', 'mail'], favourite: true });
    expect(mail.fields[0]).to.deep.include({ name: 'otp', kind: 'totp', value: null, hidden: 'masked' });
    const bank = await create({ kind: 'login', name: 'Bank', fields: [], tags: ['money'] });

    const work = await call(agent.base, 'GET', '/v1/records?tag=WORK', { token });
    expect(work.status, work.text).to.equal(200);
    expect(work.body.records.map((r: { name: string }) => r.name)).to.deep.equal(['Mail']);
    expect(work.body.records[0]).to.deep.include({ tags: ['Work', 'mail'], favourite: true });
    expect(work.body.total).to.equal(1);
    const starred = await call(agent.base, 'GET', '/v1/records?favourite=1', { token });
    expect(starred.body.records.map((r: { name: string }) => r.name)).to.deep.equal(['Mail']);

    const changed = await call(agent.base, 'PATCH', `/v1/records/${bank.id}`, { token, body: { tags: ['money', 'Work'], favourite: true } });
    expect(changed.status, changed.text).to.equal(200);
    expect(changed.body.record).to.deep.include({ tags: ['money', 'Work'], favourite: true });
    const both = await call(agent.base, 'GET', '/v1/records?tag=work&favourite=1', { token });
    expect(both.body.records.map((r: { name: string }) => r.name)).to.deep.equal(['Bank', 'Mail']);
  });

  it('keeps a one-time-code field one when a caller that knows no kinds (the web page) sets its value again', async () => {
    const forge = await create({ kind: 'login', name: 'Forge', fields: [{ name: 'otp', value: TOTP_SECRET, sensitive: true, kind: 'totp' }, { name: 'user', value: 'me', sensitive: false }] });
    const newSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const edited = await call(agent.base, 'PATCH', `/v1/records/${forge.id}`, { token, body: { setFields: [{ name: 'otp', value: newSecret, sensitive: false }, { name: 'user', value: 'you', sensitive: false }] } });
    expect(edited.status, edited.text).to.equal(200);
    expect(edited.body.record.fields).to.deep.equal([
      { name: 'otp', kind: 'totp', value: null, sensitive: true, hidden: 'masked' },
      { name: 'user', kind: 'text', value: 'you', sensitive: false, hidden: null },
    ]);
    const code = await call(agent.base, 'GET', `/v1/records/${forge.id}/code`, { token });
    expect(code.status, code.text).to.equal(200);
    // A kind given is the caller's choice: the secret becomes plain text.
    const plain = await call(agent.base, 'PATCH', `/v1/records/${forge.id}`, { token, body: { setFields: [{ name: 'otp', value: 'no longer a code', sensitive: false, kind: 'text' }] } });
    expect(plain.status, plain.text).to.equal(200);
    expect(plain.body.record.fields[0]).to.deep.include({ name: 'otp', kind: 'text', value: 'no longer a code', sensitive: false });
  });

  it('refuses a bad tag, a non-sensitive one-time-code field and a filtered search with a problem naming it', async () => {
    const badTag = await call(agent.base, 'POST', '/v1/records', { token, body: { kind: 'note', name: 'X', tags: ['a', 'a'] } });
    expect(badTag.status).to.equal(400);
    expect(badTag.body.detail).to.match(/duplicate tag "a"/);
    const plainTotp = await call(agent.base, 'POST', '/v1/records', { token, body: { kind: 'note', name: 'X', fields: [{ name: 'otp', value: TOTP_SECRET, sensitive: false, kind: 'totp' }] } });
    expect(plainTotp.status).to.equal(400);
    expect(plainTotp.body.detail).to.match(/must be sensitive/);
    const both = await call(agent.base, 'GET', '/v1/records?q=mail&tag=work', { token });
    expect(both.status).to.equal(400);
    expect(both.body.detail).to.match(/not filtered by tag/);
  });

  it('generates passwords and passphrases by GET and POST, with their entropy, and refuses bad options', async () => {
    const plain = await call(agent.base, 'GET', '/v1/generate', { token });
    expect(plain.status, plain.text).to.equal(200);
    expect(plain.body).to.include({ kind: 'password', entropyBits: 129.7 });
    expect(plain.body.value).to.have.length(20);
    const digits = await call(agent.base, 'GET', '/v1/generate?length=12&lower=0&upper=0&symbols=false&avoidLookAlikes=1', { token });
    expect(digits.body.value).to.match(/^[2-9]{12}$/);
    const phrase = await call(agent.base, 'POST', '/v1/generate', { token, body: { kind: 'passphrase', words: 4, separator: ' ', capitalise: true } });
    expect(phrase.status, phrase.text).to.equal(200);
    expect(phrase.body.value).to.match(/^([A-Z][a-z-]+ ){3}[A-Z][a-z-]+$/);
    expect(phrase.body.entropy).to.equal('51 bits of entropy (fair for an online account)');
    const bad = await call(agent.base, 'GET', '/v1/generate?length=2', { token });
    expect(bad.status).to.equal(400);
    expect(bad.body.detail).to.match(/length/);
    const none = await call(agent.base, 'POST', '/v1/generate', { token, body: { lower: false, upper: false, digits: false, symbols: false } });
    expect(none.status).to.equal(400);
    expect(none.body.detail).to.match(/at least one kind of character/);
    expect((await call(agent.base, 'GET', '/v1/generate')).status).to.equal(401);
  });

  it("gives a record's current one-time code, and a password's strength on save", async () => {
    const record = await create({
      kind: 'login',
      name: 'Forge',
      fields: [
        { name: 'password', value: 'password1', sensitive: true },
        { name: 'otp', value: `otpauth://totp/Forge:me?secret=${TOTP_SECRET}&issuer=Forge`, sensitive: true, kind: 'totp' },
      ],
    });
    const created = await call(agent.base, 'GET', `/v1/records/${record.id}/code`, { token });
    expect(created.status, created.text).to.equal(200);
    expect(created.body).to.include({ field: 'otp', period: 30, digits: 6 });
    expect(created.body.code).to.match(/^\d{6}$/);
    expect(created.body.secondsLeft).to.be.within(1, 30);
    const noCode = await call(agent.base, 'GET', `/v1/records/${record.id}/code?field=password`, { token });
    expect(noCode.status).to.equal(404);
    const patched = await call(agent.base, 'PATCH', `/v1/records/${record.id}`, { token, body: { setFields: [{ name: 'password', value: 'Tz8#qL2!mW9@vR4$', sensitive: true }] } });
    expect(patched.body.strength).to.have.length(1);
    expect(patched.body.strength[0]).to.include({ field: 'password', label: 'very strong' });
    const again = await call(agent.base, 'POST', '/v1/records', { token, body: { kind: 'login', name: 'Weak', fields: [{ name: 'password', value: 'password1', sensitive: true }] } });
    expect(again.status).to.equal(201);
    expect(again.body.strength[0]).to.include({ field: 'password', score: 0, label: 'very weak' });
    expect(JSON.stringify(again.body.strength)).to.not.contain('password1');
  });

  it('searches sensitive values only with ?sensitive=1', async () => {
    await create({ kind: 'card', name: 'Visa', fields: [{ name: 'number', value: '4111 1111 1111 1111', sensitive: true }] });
    const hidden = await call(agent.base, 'GET', '/v1/records?q=4111', { token });
    expect(hidden.status, hidden.text).to.equal(200);
    expect(hidden.body.total).to.equal(0);
    const found = await call(agent.base, 'GET', '/v1/records?q=4111&sensitive=1', { token });
    expect(found.body.hits.map((h: { record: { name: string }; field: string }) => [h.record.name, h.field])).to.deep.equal([['Visa', 'number']]);
    expect(found.text).to.not.contain('4111 1111');
  });
});
