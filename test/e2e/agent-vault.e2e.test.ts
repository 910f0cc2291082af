import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import sharp from 'sharp';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';
import { MemoryReplicaStore } from '../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { databaseTargets, pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';

const PASSWORD = 'correct horse battery';
const SECRET = 'lantern orbit cobble ferry';
const PLAIN = 'zebra-quartz-41';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Reads a Server-Sent Events stream, collecting its events until closed. */
function openEvents(base: string, token: string): { events: Array<{ event: string; data: any }>; close(): void; ready: Promise<void> } {
  const events: Array<{ event: string; data: any }> = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const req = httpRequest(new URL('/v1/events', base), { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event) continue;
        events.push({ event, data: data ? JSON.parse(data) : undefined });
        if (event === 'ready') onReady();
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { events, ready, close: () => req.destroy() };
}

/** Sends raw bytes (a picture) as the body. */
function send(base: string, method: string, path: string, token: string, bytes: Buffer, type: string): Promise<{ status: number; headers: Record<string, unknown>; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers: { authorization: `Bearer ${token}`, 'content-type': type, 'content-length': String(bytes.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

async function fetchBytes(base: string, path: string, token: string): Promise<{ status: number; type: string | undefined; bytes: Buffer }> {
  const response = await fetch(new URL(path, base), { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, type: response.headers.get('content-type') ?? undefined, bytes: Buffer.from(await response.arrayBuffer()) };
}

for (const target of databaseTargets) {
  describe(`the HTTP agent with vaults (${target.name})`, function () {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(target);
    });
    after(async () => server?.close());

    async function register(agent: TestAgent): Promise<{ login: string; token: string; userId: string }> {
      const login = `agent-${randomUUID().slice(0, 8)}`;
      const answer = await call(agent.base, 'POST', '/v1/users', { body: { login, password: PASSWORD } });
      expect(answer.status, answer.text).to.equal(201);
      return { login, token: answer.body.token, userId: answer.body.userId };
    }

    /** Another device of the same user, syncing with the server directly. */
    async function device(login: string): Promise<SyncEngine> {
      const client = await server.client();
      const session = await client.login(login, PASSWORD);
      return SyncEngine.open({ transport: grpcVaultTransport(client), store: new MemoryReplicaStore(), userId: session.userId, clientId: 'other-device' });
    }

    it('shows no plaintext of an encrypted vault before unlock or after lock, in answers or in its logs', async () => {
      const agent = await startTestAgent(server.address);
      try {
        const user = await register(agent);
        const phone = await device(user.login);
        const id = await phone.create({ kind: 'login', name: 'Mail', fields: [{ name: 'user', value: 'ann@example.org', sensitive: false }, { name: 'password', value: PLAIN, sensitive: true }] });
        await phone.enableEncryption(SECRET);

        const locked = await call(agent.base, 'GET', `/v1/records/${id}?reveal=1`, { token: user.token });
        expect(locked.status, locked.text).to.equal(200);
        expect(locked.text).to.not.contain(PLAIN);
        expect(locked.body.record.fields).to.deep.equal([
          { name: 'user', value: 'ann@example.org', sensitive: false, hidden: null, kind: 'text' },
          { name: 'password', value: null, sensitive: true, hidden: 'locked', kind: 'text' },
        ]);
        expect((await call(agent.base, 'GET', '/v1/status', { token: user.token })).body).to.include({ encrypted: true, unlocked: false });
        expect((await call(agent.base, 'GET', `/v1/records?q=${PLAIN}&sensitive=1`, { token: user.token })).body.total).to.equal(0);
        const sealedChange = await call(agent.base, 'PATCH', `/v1/records/${id}`, { token: user.token, body: { setFields: [{ name: 'pin', value: '4321', sensitive: true }] } });
        expect(sealedChange.status).to.equal(423);
        expect(sealedChange.body.kind).to.equal('locked');

        const wrong = await call(agent.base, 'POST', '/v1/unlock', { token: user.token, body: { secret: 'not the word' } });
        expect(wrong.status).to.equal(403);
        expect(wrong.body.kind).to.equal('wrong-secret');
        expect((await call(agent.base, 'POST', '/v1/unlock', { token: user.token, body: { secret: SECRET } })).status).to.equal(204);
        const open = await call(agent.base, 'GET', `/v1/records/${id}?reveal=1`, { token: user.token });
        expect(open.body.record.fields[1].value).to.equal(PLAIN);
        expect((await call(agent.base, 'GET', `/v1/records?q=${PLAIN}&sensitive=1`, { token: user.token })).body.total).to.equal(1);
        const masked = await call(agent.base, 'GET', `/v1/records/${id}`, { token: user.token });
        expect(masked.text).to.not.contain(PLAIN);

        expect((await call(agent.base, 'POST', '/v1/lock', { token: user.token })).status).to.equal(204);
        const relocked = await call(agent.base, 'GET', `/v1/records/${id}?reveal=1`, { token: user.token });
        expect(relocked.text).to.not.contain(PLAIN);
        expect((await call(agent.base, 'GET', `/v1/records?q=${PLAIN}&sensitive=1`, { token: user.token })).body.total).to.equal(0);

        const logs = await agent.logText();
        expect(logs).to.contain('"route":"/v1/records/:id"');
        for (const secret of [PLAIN, SECRET, PASSWORD, user.token, 'not the word']) expect(logs, secret).to.not.contain(secret);
        expect(logs).to.not.contain('reveal=');
        expect(logs).to.not.contain('?q=');
      } finally {
        await agent.close();
      }
    });

    it('locks an unlocked vault left idle, and keeps a replica beyond the cap only until it is needed again', async () => {
      const agent = await startTestAgent(server.address, { idleLockMinutes: 0.01, maxUsers: 1 });
      try {
        const ann = await register(agent);
        const phone = await device(ann.login);
        const id = await phone.create({ kind: 'login', name: 'Mail', fields: [{ name: 'password', value: PLAIN, sensitive: true }] });
        await phone.enableEncryption(SECRET);
        expect((await call(agent.base, 'POST', '/v1/unlock', { token: ann.token, body: { secret: SECRET } })).status).to.equal(204);
        expect((await call(agent.base, 'GET', `/v1/records/${id}?reveal=1`, { token: ann.token })).text).to.contain(PLAIN);
        // Any call counts as use, so the agent is left alone for longer than the idle time (600 ms).
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect((await call(agent.base, 'GET', '/v1/status', { token: ann.token })).body.unlocked).to.equal(false);
        expect((await call(agent.base, 'GET', `/v1/records/${id}?reveal=1`, { token: ann.token })).text).to.not.contain(PLAIN);

        const bob = await register(agent);
        const bobNote = await call(agent.base, 'POST', '/v1/records', { token: bob.token, body: { kind: 'note', name: 'Diary', fields: [] } });
        expect(bobNote.status).to.equal(201);
        expect(agent.agent.users.openCount).to.equal(1);
        const again = await call(agent.base, 'GET', `/v1/records/${id}`, { token: ann.token });
        expect(again.status, again.text).to.equal(200);
        expect(again.body.record.name).to.equal('Mail');
        expect(agent.agent.users.openCount).to.equal(1);
        expect((await call(agent.base, 'GET', '/v1/records', { token: bob.token })).body.records.map((r: { name: string }) => r.name)).to.deep.equal(['Diary']);
      } finally {
        await agent.close();
      }
    });

    it('tells an event stream within a second of a change made on another device (the server pokes it: polling is a minute away)', async () => {
      const agent = await startTestAgent(server.address, {}, { refreshMs: 60_000 });
      try {
        const user = await register(agent);
        const stream = openEvents(agent.base, user.token);
        await stream.ready;
        const phone = await device(user.login);
        const started = Date.now();
        const id = await phone.create({ kind: 'note', name: 'From the phone', fields: [] });
        await phone.sync();
        const change = await until('the change event', async () => stream.events.find((e) => e.event === 'changed' && (e.data.all || e.data.changed.includes(id))), 3_000);
        expect(Date.now() - started).to.be.below(1_000);
        expect(change.data.version).to.be.greaterThan(0);
        const list = await call(agent.base, 'GET', '/v1/records', { token: user.token });
        expect(list.body.records.map((r: { id: string }) => r.id)).to.contain(id);
        // Once the replica holds the vault, an event names the records that changed.
        const second = await phone.create({ kind: 'note', name: 'Later', fields: [] });
        const secondStarted = Date.now();
        await phone.sync();
        const named = await until('the second change event', async () => stream.events.find((e) => e.event === 'changed' && e.data.changed.includes(second)), 3_000);
        expect(named.data.all).to.equal(false);
        expect(Date.now() - secondStarted).to.be.below(1_000);
        // The stream ends with the user's last caller.
        expect((await call(agent.base, 'DELETE', '/v1/sessions/current', { token: user.token })).status).to.equal(204);
        stream.close();
      } finally {
        await agent.close();
      }
    });

    it('answers a sync asked for during another with one that started after the asking: a change made meanwhile is in it', async () => {
      const agent = await startTestAgent(server.address, {}, { refreshMs: 60_000 });
      try {
        const user = await register(agent);
        const held = agent.agent.users.caller(user.token)!.user;
        const handle = await held.vault();
        // The replica's next sync is held after it has pulled, as a slow end of a sync would be.
        let release: () => void = () => undefined;
        const releasing = new Promise<void>((resolve) => (release = resolve));
        let pulled: () => void = () => undefined;
        const hasPulled = new Promise<void>((resolve) => (pulled = resolve));
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          const outcome = await sync();
          pulled();
          await releasing;
          return outcome;
        };
        const first = held.syncNow();
        await hasPulled;
        // Meanwhile another device changes the vault, and a caller asks for a sync.
        const phone = await device(user.login);
        const id = await phone.create({ kind: 'note', name: 'Made during a sync', fields: [] });
        await phone.sync();
        const asked = held.syncNow();
        release();
        await first;
        const outcome = await asked;
        expect(outcome.online).to.equal(true);
        expect(handle.vault.records().map((r) => r.id)).to.include(id);
      } finally {
        await agent.close();
      }
    });

    it('takes a picture as a stream, lists it, hands back its bytes, and refuses what is not a picture or not the caller\'s', async () => {
      const agent = await startTestAgent(server.address);
      try {
        const ann = await register(agent);
        const bob = await register(agent);
        const record = (await call(agent.base, 'POST', '/v1/records', { token: ann.token, body: { kind: 'note', name: 'Passport', fields: [] } })).body.record;
        const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#39c' } }).png().toBuffer();
        const uploaded = await send(agent.base, 'POST', `/v1/records/${record.id}/images?name=scan.png`, ann.token, png, 'image/png');
        expect(uploaded.status, uploaded.text).to.equal(201);
        const image = uploaded.body.image;
        expect(image).to.include({ recordId: record.id, fileName: 'scan.png', type: 'image/png', size: png.length, width: 64, height: 48, encrypted: false });
        const listed = await call(agent.base, 'GET', `/v1/records/${record.id}/images`, { token: ann.token });
        expect(listed.body.images.map((i: { id: string }) => i.id)).to.deep.equal([image.id]);
        const original = await fetchBytes(agent.base, `/v1/images/${image.id}/original`, ann.token);
        expect(original.status).to.equal(200);
        expect(original.type).to.equal('image/png');
        expect(Buffer.compare(original.bytes, png)).to.equal(0);

        // Bob knows the ids: nothing of Ann's reaches him.
        expect((await fetchBytes(agent.base, `/v1/images/${image.id}/original`, bob.token)).status).to.equal(404);
        expect((await call(agent.base, 'GET', `/v1/records/${record.id}/images`, { token: bob.token })).status).to.equal(404);
        expect((await send(agent.base, 'POST', `/v1/records/${record.id}/images?name=x.png`, bob.token, png, 'image/png')).status).to.equal(404);
        expect((await call(agent.base, 'DELETE', `/v1/images/${image.id}`, { token: bob.token })).status).to.equal(404);

        const notAPicture = await send(agent.base, 'POST', `/v1/records/${record.id}/images?name=notes.png`, ann.token, Buffer.from('just some text, not a picture'), 'image/png');
        expect(notAPicture.status).to.be.oneOf([400, 415]);
        expect(notAPicture.headers['content-type']).to.match(/^application\/problem\+json/);
        const noName = await send(agent.base, 'POST', `/v1/records/${record.id}/images`, ann.token, png, 'image/png');
        expect(noName.status).to.equal(400);
        expect(noName.body.detail).to.match(/name/);
        expect((await call(agent.base, 'GET', `/v1/records/${record.id}/images`, { token: ann.token })).body.images).to.have.length(1);

        expect((await call(agent.base, 'DELETE', `/v1/images/${image.id}`, { token: ann.token })).status).to.equal(204);
        expect((await call(agent.base, 'GET', `/v1/records/${record.id}/images`, { token: ann.token })).body.images).to.deep.equal([]);
      } finally {
        await agent.close();
      }
    });

    it('publishes an OpenAPI 3.1 document that validates and names every route', async () => {
      const agent = await startTestAgent(server.address);
      try {
        const answer = await call(agent.base, 'GET', '/v1/openapi.json');
        expect(answer.status).to.equal(200);
        expect(answer.body.openapi).to.match(/^3\.1\./);
        const result = await new Validator().validate(answer.body);
        expect(result.valid, JSON.stringify(result.errors)).to.equal(true);
        const documented = Object.entries(answer.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
        const routes: string[] = [];
        for (const route of agent.agent.routes) if (route.url.startsWith('/v1/') && route.url !== '/v1/openapi.json' && route.method !== 'HEAD') routes.push(`${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
        expect([...documented].sort()).to.deep.equal([...routes].sort());
      } finally {
        await agent.close();
      }
    });
  });
}

describe('the HTTP agent when the server goes away (PGlite)', function () {
  it('answers 503 with a sentence for what needs the server, and serves what it holds marked stale', async () => {
    const server = await startTestServer(pgliteTarget);
    const agent = await startTestAgent(server.address, { timeout: 2_000 });
    try {
      const login = `agent-${randomUUID().slice(0, 8)}`;
      const user = (await call(agent.base, 'POST', '/v1/users', { body: { login, password: PASSWORD } })).body;
      const created = await call(agent.base, 'POST', '/v1/records', { token: user.token, body: { kind: 'note', name: 'Kept', fields: [] } });
      expect(created.status).to.equal(201);
      await server.app.stop();

      const sync = await call(agent.base, 'POST', '/v1/sync', { token: user.token });
      expect(sync.status).to.equal(503);
      expect(sync.body.kind).to.equal('offline');
      expect(sync.body.detail).to.match(/cannot reach the Keeper server/);
      const list = await call(agent.base, 'GET', '/v1/records', { token: user.token });
      expect(list.status).to.equal(200);
      expect(list.body.records.map((r: { name: string }) => r.name)).to.deep.equal(['Kept']);
      expect(list.body.sync.stale).to.equal(true);
      expect(list.body.sync.problem).to.match(/cannot reach/);
      const offlineEdit = await call(agent.base, 'POST', '/v1/records', { token: user.token, body: { kind: 'note', name: 'Written offline', fields: [] } });
      expect(offlineEdit.status).to.equal(201);
      expect(offlineEdit.body.sync).to.include({ stale: true, pending: 1 });
      const newLogin = await call(agent.base, 'POST', '/v1/sessions', { body: { login, password: PASSWORD } });
      expect(newLogin.status).to.equal(503);
      expect(newLogin.body.detail).to.match(/cannot reach/);
    } finally {
      await agent.close();
      await server.close().catch(() => undefined);
    }
  });
});
