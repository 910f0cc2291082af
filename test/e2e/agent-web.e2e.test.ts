import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';
import { builtPage } from '../support/browser.js';

const PASSWORD = 'correct horse battery';

/** The first chunk of an event stream, or its status when refused. */
function firstEvent(base: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL('/v1/events', base), { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('\n\n')) {
          resolve({ status: res.statusCode ?? 0, text });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the HTTP agent and its web page: cookie sessions, CSRF and the served page', function () {
  let server: TestServer;
  let agent: TestAgent;
  let origin: string;
  before(async () => {
    await builtPage();
    server = await startTestServer(pgliteTarget);
    agent = await startTestAgent(server.address);
    origin = agent.base;
  });
  after(async () => {
    await agent?.close();
    await server?.close();
  });

  async function cookieSession(): Promise<{ cookie: string; login: string }> {
    const login = `web-${randomUUID().slice(0, 8)}`;
    const answer = await call(agent.base, 'POST', '/v1/users', { body: { login, password: PASSWORD, cookie: true }, headers: { origin } });
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.body).to.not.have.property('token');
    const setCookie = String(answer.headers['set-cookie']);
    expect(setCookie).to.match(/^keeper_session=kpa_[A-Za-z0-9_-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    return { cookie: setCookie.split(';')[0]!, login };
  }

  it('sets the session as an HttpOnly, SameSite=Strict cookie only for its own page, and takes it back on logout', async () => {
    const { cookie, login } = await cookieSession();
    // Without the page's Origin (a script, another tool) no cookie is handed out.
    const bare = await call(agent.base, 'POST', '/v1/sessions', { body: { login, password: PASSWORD, cookie: true } });
    expect(bare.status).to.equal(403);
    expect(bare.body.detail).to.equal("a session cookie is only set for the agent's own page (the request must carry its Origin)");
    expect(bare.headers['set-cookie']).to.equal(undefined);

    const status = await call(agent.base, 'GET', '/v1/status', { headers: { cookie, 'sec-fetch-site': 'same-origin' } });
    expect(status.status, status.text).to.equal(200);
    expect(status.body.login).to.equal(login);
    expect(status.body.idleLockSeconds).to.equal(900);
    const events = await firstEvent(agent.base, { cookie, accept: 'text/event-stream' });
    expect(events.status).to.equal(200);
    expect(events.text).to.contain('event: ready');

    const out = await call(agent.base, 'DELETE', '/v1/sessions/current', { headers: { cookie, origin } });
    expect(out.status).to.equal(204);
    expect(String(out.headers['set-cookie'])).to.match(/^keeper_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/);
    expect((await call(agent.base, 'GET', '/v1/status', { headers: { cookie } })).status).to.equal(401);
  });

  it('refuses a change carried by the cookie without the page\'s Origin, and a read another origin of the same site asked for', async () => {
    const { cookie } = await cookieSession();
    const body = { kind: 'note', name: 'Forged', fields: [] };
    const noOrigin = await call(agent.base, 'POST', '/v1/records', { body, headers: { cookie } });
    expect(noOrigin.status).to.equal(403);
    expect(noOrigin.body.detail).to.equal("the session cookie is only taken from the agent's own page; a change must carry the page's Origin");
    const port = new URL(agent.base).port;
    for (const foreign of [`http://localhost:${Number(port) + 1}`, 'https://evil.example']) {
      const answer = await call(agent.base, 'POST', '/v1/records', { body, headers: { cookie, origin: foreign } });
      expect(answer.status, foreign).to.equal(403);
    }
    const sameSite = await call(agent.base, 'GET', '/v1/records', { headers: { cookie, 'sec-fetch-site': 'same-site' } });
    expect(sameSite.status).to.equal(403);
    const crossSite = await call(agent.base, 'GET', '/v1/records', { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).to.equal(403);
    expect((await call(agent.base, 'GET', '/v1/records', { headers: { cookie, 'sec-fetch-site': 'same-origin' } })).body.total).to.equal(0);

    const made = await call(agent.base, 'POST', '/v1/records', { body: { ...body, name: 'Mine' }, headers: { cookie, origin } });
    expect(made.status, made.text).to.equal(201);
    // A bearer token is still taken from anyone, as before (it cannot be sent by a browser on its own).
    const login = `api-${randomUUID().slice(0, 8)}`;
    const token = (await call(agent.base, 'POST', '/v1/users', { body: { login, password: PASSWORD } })).body.token;
    expect((await call(agent.base, 'POST', '/v1/records', { token, body })).status).to.equal(201);
  });

  it('serves the page at / with a strict CSP, hashed assets cached for good, compressed, and the kinds with their templates', async () => {
    const page = await call(agent.base, 'GET', '/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.headers['cache-control']).to.equal('no-cache');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).to.contain("default-src 'none'").and.contain("script-src 'self'").and.contain("connect-src 'self'").and.contain("frame-ancestors 'none'");
    expect(csp).to.not.contain('unsafe-inline');
    expect(page.text).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.headers['x-frame-options']).to.equal('DENY');

    const script = /<script[^>]*src="(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).to.be.a('string');
    const asset = await call(agent.base, 'GET', script!, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(asset.status).to.equal(200);
    expect(asset.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    expect(asset.headers['content-encoding']).to.equal('br');
    expect(asset.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    const again = await call(agent.base, 'GET', script!, { headers: { 'if-none-match': String(asset.headers.etag) } });
    expect(again.status).to.equal(304);

    // Only the built files are served: no path reaches the file system.
    for (const path of ['/assets/../../package.json', '/assets/%2e%2e/%2e%2e/package.json', '/dist/web/index.html', '/src/client/web/main.tsx']) {
      expect((await call(agent.base, 'GET', path)).status, path).to.equal(404);
    }
    const foreignHost = await call(agent.base, 'GET', '/', { headers: { host: 'attacker.example:80' } });
    expect(foreignHost.status).to.equal(421);

    const kinds = await call(agent.base, 'GET', '/v1/kinds');
    expect(kinds.status).to.equal(200);
    expect(kinds.body.kinds.find((k: { kind: string }) => k.kind === 'card').fields).to.deep.equal([
      { name: 'number', sensitive: true },
      { name: 'holder', sensitive: false },
      { name: 'expires', sensitive: false },
      { name: 'cvv', sensitive: true },
    ]);
  });

  it('logs no cookie and no password', async () => {
    const { cookie } = await cookieSession();
    await call(agent.base, 'GET', '/v1/status', { headers: { cookie } });
    const logs = await agent.logText();
    expect(logs).to.not.contain(cookie.split('=')[1]);
    expect(logs).to.not.contain(PASSWORD);
  });
});
