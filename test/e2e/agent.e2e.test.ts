import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';

const PASSWORD = 'correct horse battery';

for (const target of databaseTargets) {
  describe(`the HTTP agent (${target.name})`, function () {
    let server: TestServer;
    let agent: TestAgent;
    before(async () => {
      server = await startTestServer(target);
      agent = await startTestAgent(server.address);
    });
    after(async () => {
      await agent?.close();
      await server?.close();
    });

    async function newUser(): Promise<{ login: string; token: string; userId: string }> {
      const login = `agent-${randomUUID().slice(0, 8)}`;
      const answer = await call(agent.base, 'POST', '/v1/users', { body: { login, password: PASSWORD } });
      expect(answer.status, answer.text).to.equal(201);
      return { login, token: answer.body.token, userId: answer.body.userId };
    }

    async function login(name: string): Promise<string> {
      const answer = await call(agent.base, 'POST', '/v1/sessions', { body: { login: name, password: PASSWORD } });
      expect(answer.status, answer.text).to.equal(201);
      return answer.body.token;
    }

    it('serves two users and three callers at once, each seeing only their own records', async () => {
      const ann = await newUser();
      const annOnPhone = await login(ann.login);
      const bob = await newUser();
      expect(annOnPhone).to.not.equal(ann.token);

      const created = await Promise.all([
        call(agent.base, 'POST', '/v1/records', { token: ann.token, body: { kind: 'login', name: 'Mail', fields: [{ name: 'password', value: 'ann-secret-1', sensitive: true }] } }),
        call(agent.base, 'POST', '/v1/records', { token: bob.token, body: { kind: 'note', name: 'Diary', fields: [{ name: 'text', value: 'bob was here', sensitive: false }] } }),
      ]);
      for (const answer of created) expect(answer.status, answer.text).to.equal(201);
      const annRecord = created[0]!.body.record;
      const bobRecord = created[1]!.body.record;
      expect(annRecord.fields[0]).to.deep.equal({ name: 'password', value: null, sensitive: true, hidden: 'masked', kind: 'text' });
      expect(created[0]!.body.sync).to.include({ stale: false, pending: 0 });

      // Ann's other caller sees the record (one replica per user), revealed on request.
      const onPhone = await call(agent.base, 'GET', `/v1/records/${annRecord.id}?reveal=1`, { token: annOnPhone });
      expect(onPhone.status).to.equal(200);
      expect(onPhone.body.record.fields[0].value).to.equal('ann-secret-1');

      // Lists carry names and field names, never values.
      const annList = await call(agent.base, 'GET', '/v1/records', { token: annOnPhone });
      expect(annList.body.records).to.have.length(1);
      expect(annList.body.records[0]).to.include({ id: annRecord.id, name: 'Mail', sealed: false });
      expect(annList.body.records[0].fieldNames).to.deep.equal(['password']);
      expect(annList.text).to.not.contain('ann-secret-1');
      const bobList = await call(agent.base, 'GET', '/v1/records', { token: bob.token });
      expect(bobList.body.records.map((r: { id: string }) => r.id)).to.deep.equal([bobRecord.id]);
      for (const [method, path, body] of [
        ['GET', `/v1/records/${annRecord.id}?reveal=1`, undefined],
        ['PATCH', `/v1/records/${annRecord.id}`, { name: 'mine now' }],
        ['DELETE', `/v1/records/${annRecord.id}`, undefined],
        ['GET', `/v1/records/${annRecord.id}/history`, undefined],
      ] as const) {
        const answer = await call(agent.base, method, path, { token: bob.token, body });
        expect(answer.status, `${method} ${path}`).to.equal(404);
        expect(answer.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(answer.text).to.not.contain('ann-secret-1');
        expect(answer.text).to.not.contain('Mail');
      }
      const searched = await call(agent.base, 'GET', '/v1/records?q=mail', { token: bob.token });
      expect(searched.body.total).to.equal(0);

      for (const token of ['kpa_' + 'x'.repeat(43), 'garbage', '']) {
        const answer = await call(agent.base, 'GET', '/v1/records', { token });
        expect(answer.status).to.equal(401);
        expect(answer.body.type).to.match(/^urn:keeper:problem:/);
      }

      // Ann's first caller logs out: the other goes on; after the last, the token is dead.
      expect((await call(agent.base, 'DELETE', '/v1/sessions/current', { token: ann.token })).status).to.equal(204);
      expect((await call(agent.base, 'GET', '/v1/records', { token: ann.token })).status).to.equal(401);
      expect((await call(agent.base, 'GET', `/v1/records/${annRecord.id}`, { token: annOnPhone })).status).to.equal(200);
      expect((await call(agent.base, 'DELETE', '/v1/sessions/current', { token: annOnPhone })).status).to.equal(204);
      expect((await call(agent.base, 'GET', '/v1/records', { token: annOnPhone })).status).to.equal(401);
    });

    it('changes a record field by field, keeps its history and restores a version', async () => {
      const user = await newUser();
      const created = await call(agent.base, 'POST', '/v1/records', {
        token: user.token,
        body: { kind: 'login', name: 'Bank', fields: [{ name: 'user', value: 'ann', sensitive: false }, { name: 'pin', value: '1234', sensitive: true }] },
      });
      const id = created.body.record.id;
      const changed = await call(agent.base, 'PATCH', `/v1/records/${id}`, { token: user.token, body: { setFields: [{ name: 'pin', value: '9999', sensitive: true }], removeFields: ['user'] } });
      expect(changed.status, changed.text).to.equal(200);
      expect(changed.body.record.fields.map((f: { name: string }) => f.name)).to.deep.equal(['pin']);
      const history = await call(agent.base, 'GET', `/v1/records/${id}/history?reveal=1`, { token: user.token });
      expect(history.body.versions.map((v: { type: string }) => v.type)).to.deep.equal(['RecordCreated', 'RecordUpdated']);
      const first = history.body.versions[0];
      expect(first.record.fields.find((f: { name: string }) => f.name === 'pin').value).to.equal('1234');
      const restored = await call(agent.base, 'POST', `/v1/records/${id}/restore`, { token: user.token, body: { version: first.version } });
      expect(restored.status, restored.text).to.equal(200);
      const now = await call(agent.base, 'GET', `/v1/records/${id}?reveal=1`, { token: user.token });
      expect(now.body.record.fields).to.deep.equal([
        { name: 'user', value: 'ann', sensitive: false, hidden: null, kind: 'text' },
        { name: 'pin', value: '1234', sensitive: true, hidden: null, kind: 'text' },
      ]);
      expect((await call(agent.base, 'DELETE', `/v1/records/${id}`, { token: user.token })).status).to.equal(204);
      const deleted = await call(agent.base, 'GET', '/v1/deleted-records', { token: user.token });
      expect(deleted.body.records.map((r: { id: string }) => r.id)).to.deep.equal([id]);
      expect((await call(agent.base, 'GET', `/v1/records/${id}`, { token: user.token })).status).to.equal(404);
    });

    it('lists by name in pages, by kind, and searches in memory', async () => {
      const user = await newUser();
      const names = ['delta', 'Alpha', 'charlie', 'bravo', 'echo'];
      for (const name of names) {
        const answer = await call(agent.base, 'POST', '/v1/records', { token: user.token, body: { kind: name === 'echo' ? 'note' : 'login', name, fields: [{ name: 'site', value: `${name}.example.org`, sensitive: false }] } });
        expect(answer.status).to.equal(201);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { records: Array<{ name: string }>; nextCursor: string | null; total: number } } = await call(agent.base, 'GET', `/v1/records?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: user.token });
        expect(page.body.records.length).to.be.at.most(2);
        expect(page.body.total).to.equal(5);
        seen.push(...page.body.records.map((r) => r.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).to.deep.equal(['Alpha', 'bravo', 'charlie', 'delta', 'echo']);
      const notes = await call(agent.base, 'GET', '/v1/records?kind=note', { token: user.token });
      expect(notes.body.records.map((r: { name: string }) => r.name)).to.deep.equal(['echo']);
      const found = await call(agent.base, 'GET', '/v1/records?q=CHARLIE.example', { token: user.token });
      expect(found.body.total).to.equal(1);
      expect(found.body.hits[0]).to.deep.include({ matched: 'field', field: 'site' });
      expect(found.body.hits[0].record.name).to.equal('charlie');
      const badCursor = await call(agent.base, 'GET', '/v1/records?cursor=bm9wZQ', { token: user.token });
      expect(badCursor.status).to.equal(400);
      expect(badCursor.body.detail).to.match(/cursor/);
    });

    it('refuses malformed JSON, wrong types and huge bodies with a sentence, changing nothing', async () => {
      const user = await newUser();
      const malformed = await call(agent.base, 'POST', '/v1/records', { token: user.token, body: '{"kind": "login", "name": ' });
      expect(malformed.status).to.equal(400);
      expect(malformed.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(malformed.body).to.include({ kind: 'invalid', type: 'urn:keeper:problem:invalid', detail: 'the body is not valid JSON' });
      const wrongTypes = await call(agent.base, 'POST', '/v1/records', { token: user.token, body: { kind: 'spaceship', name: 42, fields: 'none' } });
      expect(wrongTypes.status).to.equal(400);
      expect(wrongTypes.body.detail).to.match(/kind/).and.match(/name/);
      const huge = await call(agent.base, 'POST', '/v1/records', { token: user.token, body: { kind: 'note', name: 'big', fields: [{ name: 'text', value: 'x'.repeat(1024 * 1024), sensitive: false }] } });
      expect(huge.status).to.equal(413);
      expect(huge.body.kind).to.equal('too-large');
      const nothing = await call(agent.base, 'PATCH', `/v1/records/${randomUUID()}`, { token: user.token, body: {} });
      expect(nothing.status).to.equal(400);
      expect(nothing.body.detail).to.match(/nothing to change/);
      const notAnId = await call(agent.base, 'GET', '/v1/records/not-an-id', { token: user.token });
      expect(notAnId.status).to.equal(400);
      expect(notAnId.body.detail).to.match(/UUID/);
      const list = await call(agent.base, 'GET', '/v1/records', { token: user.token });
      expect(list.body.total).to.equal(0);
      const unknown = await call(agent.base, 'GET', '/v1/nowhere', { token: user.token });
      expect(unknown.status).to.equal(404);
      expect(unknown.body.kind).to.equal('not-found');
    });

    it('refuses a foreign Host (DNS rebinding) and a foreign Origin (CSRF), and grants no CORS', async () => {
      const user = await newUser();
      const rebinding = await call(agent.base, 'GET', '/v1/records', { token: user.token, headers: { host: 'evil.example:7071' } });
      expect(rebinding.status).to.equal(421);
      expect(rebinding.text).to.not.contain(user.userId);
      const csrf = await call(agent.base, 'POST', '/v1/records', { token: user.token, headers: { origin: 'http://evil.example' }, body: { kind: 'note', name: 'planted', fields: [] } });
      expect(csrf.status).to.equal(403);
      const crossSite = await call(agent.base, 'GET', '/v1/records', { token: user.token, headers: { 'sec-fetch-site': 'cross-site' } });
      expect(crossSite.status).to.equal(403);
      const preflight = await call(agent.base, 'OPTIONS', '/v1/records', { headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
      expect(preflight.status).to.equal(403);
      expect(preflight.headers['access-control-allow-origin']).to.equal(undefined);
      const own = await call(agent.base, 'GET', '/v1/records', { token: user.token, headers: { origin: agent.base } });
      expect(own.status).to.equal(200);
      expect(own.headers['x-content-type-options']).to.equal('nosniff');
      expect(own.headers['cache-control']).to.equal('no-store');
      const list = await call(agent.base, 'GET', '/v1/records', { token: user.token });
      expect(list.body.total).to.equal(0);
    });

    it('slows down password guessing through the agent', async () => {
      const user = await newUser();
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push((await call(agent.base, 'POST', '/v1/sessions', { body: { login: user.login, password: `wrong-${i}` } })).status);
      }
      expect(statuses.slice(0, 5)).to.deep.equal([401, 401, 401, 401, 401]);
      const limited = await call(agent.base, 'POST', '/v1/sessions', { body: { login: user.login, password: PASSWORD } });
      expect(limited.status).to.equal(429);
      expect(Number(limited.headers['retry-after'])).to.be.greaterThan(0);
    });
  });
}
