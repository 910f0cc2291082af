import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { startHealthEndpoint, type HealthEndpoint } from '../../src/composition/health-endpoint.js';
import { ConfigError } from '../../src/config/env.js';
import { createLogger } from '../../src/logging.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const logger = createLogger('silent', 'test');
const HEALTHCHECK = join(import.meta.dirname, '..', '..', 'docker', 'healthcheck.mjs');

async function get(endpoint: HealthEndpoint, path = '/healthz', method = 'GET') {
  const response = await fetch(`http://${endpoint.address}${path}`, { method });
  return { status: response.status, type: response.headers.get('content-type') ?? '', allow: response.headers.get('allow'), body: method === 'HEAD' ? '' : await response.text() };
}

/** docker/healthcheck.mjs, the image's HEALTHCHECK, run beside the process it asks. */
function healthcheck(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HEALTHCHECK], { env: { PATH: process.env.PATH ?? '', ...env } }, (error, _stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('health endpoint (GET /healthz of the projector, imaging worker and bot)', () => {
  const started: HealthEndpoint[] = [];
  const start = async (probe: () => Promise<unknown>, timeoutMs?: number) => {
    const endpoint = await startHealthEndpoint({ host: '127.0.0.1', port: 0 }, probe, { dependency: 'the database', ...(timeoutMs ? { timeoutMs } : {}) }, logger);
    started.push(endpoint);
    return endpoint;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((endpoint) => endpoint.stop()));
  });

  it('answers 200 while the probe succeeds, and 503 with a sentence while it fails or hangs', async () => {
    let failing = false;
    const endpoint = await start(async () => {
      if (failing) throw new Error('connection refused at postgres://keeper:secret@db');
    });
    expect(await get(endpoint)).to.deep.include({ status: 200, type: 'application/json', body: '{"status":"serving"}' });
    expect((await get(endpoint, '/healthz', 'HEAD')).status).to.equal(200);
    failing = true;
    const down = await get(endpoint);
    expect(down).to.deep.include({ status: 503, type: 'application/problem+json' });
    expect(JSON.parse(down.body)).to.deep.equal({ type: 'urn:keeper:problem:unavailable', title: 'Not serving', status: 503, detail: 'the database does not answer within 3000 ms' });
    // The probe's own error (which may name a URL with its password) is never repeated.
    expect(down.body).to.not.include('secret');
    failing = false;
    expect((await get(endpoint)).status).to.equal(200);

    const hanging = await start(() => new Promise(() => {}), 150);
    const slow = await get(hanging);
    expect(slow.status).to.equal(503);
    expect(JSON.parse(slow.body).detail).to.equal('the database does not answer within 150 ms');
  });

  it('runs one probe for callers arriving together', async () => {
    let probes = 0;
    let release = () => {};
    const endpoint = await start(() => {
      probes += 1;
      return probes === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
    });
    const answers = Promise.all([get(endpoint), get(endpoint), get(endpoint), get(endpoint)]);
    // All four are in before the first probe ends.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(probes).to.equal(1);
    release();
    expect((await answers).map((answer) => answer.status)).to.deep.equal([200, 200, 200, 200]);
    expect(probes).to.equal(1);
    expect((await get(endpoint)).status).to.equal(200);
    expect(probes).to.equal(2);
  });

  it('serves nothing but GET /healthz, and stops answering when stopped', async () => {
    const endpoint = await start(async () => {});
    const other = await get(endpoint, '/metrics');
    expect(other).to.deep.include({ status: 404, type: 'application/problem+json' });
    expect(JSON.parse(other.body).detail).to.equal('only GET /healthz is served here');
    expect(await get(endpoint, '/healthz', 'POST')).to.deep.include({ status: 405, allow: 'GET, HEAD' });
    await endpoint.stop();
    started.splice(started.indexOf(endpoint), 1);
    const refused = await get(endpoint).then(
      () => 'answered',
      (error: Error & { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
  });

  it('refuses an address it cannot listen on with a sentence naming the setting', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const error = await startHealthEndpoint({ host: '127.0.0.1', port }, async () => {}, { dependency: 'the database' }, logger).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.equal(`invalid configuration: --health-listen / KEEPER_HEALTH_LISTEN 127.0.0.1:${port} cannot be listened on (EADDRINUSE)`);
    } finally {
      taken.close();
    }
  });
});

describe("the image's health check (docker/healthcheck.mjs)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(pgliteTarget);
  });
  after(async () => {
    await server.close();
  });

  it("passes while a server's gRPC health service says SERVING, and fails with a sentence when nothing answers", async () => {
    expect(await healthcheck({ KEEPER_HEALTHCHECK_ROLE: 'server', KEEPER_LISTEN: server.address })).to.deep.equal({ code: 0, stderr: '' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const down = await healthcheck({ KEEPER_HEALTHCHECK_ROLE: 'server', KEEPER_LISTEN: `0.0.0.0:${port}` });
    expect(down.code).to.equal(1);
    expect(down.stderr).to.match(/^unhealthy: server: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/);
  });

  it("passes while a projector's /healthz answers 200 and fails on 503", async () => {
    let serving = true;
    const endpoint = await startHealthEndpoint(
      { host: '127.0.0.1', port: 0 },
      async () => {
        if (!serving) throw new Error('down');
      },
      { dependency: 'the database' },
      logger,
    );
    try {
      expect(await healthcheck({ KEEPER_HEALTHCHECK_ROLE: 'projector', KEEPER_HEALTH_LISTEN: endpoint.address })).to.deep.equal({ code: 0, stderr: '' });
      serving = false;
      expect(await healthcheck({ KEEPER_HEALTHCHECK_ROLE: 'imaging', KEEPER_HEALTH_LISTEN: endpoint.address })).to.deep.equal({ code: 1, stderr: 'unhealthy: imaging: /healthz answered 503\n' });
      expect(await healthcheck({ KEEPER_HEALTHCHECK_ROLE: 'projector' })).to.deep.equal({
        code: 1,
        stderr: 'unhealthy: projector: KEEPER_HEALTH_LISTEN is not set, so it has no health endpoint to ask\n',
      });
    } finally {
      await endpoint.stop();
    }
  });
});
