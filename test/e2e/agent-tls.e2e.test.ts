import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeCertificates } from '../support/certificates.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';

function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Registers through the agent over TLS as its own page would, answering the Set-Cookie header. */
function registerForCookie(url: string, ca: Buffer, origin: string): Promise<{ status: number; setCookie: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ login: `tls-${Date.now()}`, password: 'correct horse battery', cookie: true });
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', origin } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: String(res.headers['set-cookie']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the HTTP agent beyond loopback (TLS)', function () {
  let server: TestServer;
  let agent: TestAgent;
  let dir: string;
  let ca: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-agent-tls-'));
    const certs = await makeCertificates(dir);
    ca = await readFile(certs.ca);
    server = await startTestServer(pgliteTarget);
    agent = await startTestAgent(server.address, { listen: '0.0.0.0:0', agentTlsCert: certs.cert, agentTlsKey: certs.key });
  });
  after(async () => {
    await agent?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('speaks only TLS, with the certificate it was given', async () => {
    const port = agent.agent.address.split(':').at(-1);
    expect(await httpsStatus(`https://127.0.0.1:${port}/v1/openapi.json`, ca)).to.equal(200);
    const plain = await call(`http://127.0.0.1:${port}`, 'GET', '/v1/openapi.json').then(
      (answer) => answer.status,
      () => 'refused',
    );
    expect(plain).to.not.equal(200);
  });

  it("sets the web page's cookie Secure and __Host- prefixed", async () => {
    const port = agent.agent.address.split(':').at(-1);
    const answer = await registerForCookie(`https://127.0.0.1:${port}/v1/users`, ca, `https://127.0.0.1:${port}`);
    expect(answer.status).to.equal(201);
    expect(answer.setCookie).to.match(/^__Host-keeper_session=kpa_[A-Za-z0-9_-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });
});
