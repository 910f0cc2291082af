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
});
