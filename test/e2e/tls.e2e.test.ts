import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';
import { startByteProxy } from '../../scripts/bench/support/byte-proxy.js';
import { makeCertificates } from '../support/certificates.js';

describe('TLS between the client and the server', function () {
  this.timeout(120_000);
  let dir: string;
  let certs: Awaited<ReturnType<typeof makeCertificates>>;
  let server: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keeper-tls-'));
    try {
      certs = await makeCertificates(dir);
    } catch (error) {
      throw new Error(`the TLS tests make their certificates with openssl, which failed: ${(error as Error).message}`);
    }
    server = await startTestServer(pgliteTarget, { tls: { cert: await readFile(certs.cert), key: await readFile(certs.key), ca: certs.ca } });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a session over TLS, and the wire carries neither the password nor a record in the clear', async () => {
    const seen: Buffer[] = [];
    const relay = await startByteProxy(server.address, { tap: (chunk) => seen.push(chunk) });
    try {
      const env = { KEEPER_SERVER: relay.address, KEEPER_HOME: join(dir, 'home-a'), KEEPER_TLS: 'true', KEEPER_TLS_CA: certs.ca };
      const registered = await keeper(['register', '--login', 'tls-user'], env, 'plaintext-would-show-this-password\n');
      expect(registered.code, registered.stderr).to.equal(0);
      const added = await keeper(['add', 'Mailbox', '--field', 'address=visible-only-inside-tls@example.com'], env);
      expect(added.code, added.stderr).to.equal(0);
      await server.projected();
      const listed = await keeper(['ls'], env);
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout).to.contain('Mailbox');
      const wire = Buffer.concat(seen);
      expect(wire.length).to.be.above(1000);
      for (const secret of ['plaintext-would-show-this-password', 'visible-only-inside-tls', 'Mailbox', 'tls-user']) {
        expect(wire.includes(Buffer.from(secret)), `"${secret}" on the wire`).to.equal(false);
      }
    } finally {
      await relay.close();
    }
  });

  it('works for the client library too, over the same certificate', async () => {
    const client = await server.client();
    await client.register('tls-library', 'correct horse battery');
    const status = await client.status();
    expect(status.version).to.equal(0);
  });

  it('refuses a server whose certificate the client does not trust, in one sentence', async () => {
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: join(dir, 'home-b'), KEEPER_TLS: 'true', KEEPER_TLS_CA: certs.strangerCa };
    const login = await keeper(['login', '--login', 'tls-library'], env, 'correct horse battery\n');
    expectSentence(login, 6, /cannot reach the Keeper server.*certificate/);
  });

  it('a plaintext client cannot talk to the TLS server, in one sentence', async () => {
    const plain = await keeper(['login', '--login', 'tls-library'], { KEEPER_SERVER: server.address, KEEPER_HOME: join(dir, 'home-c') }, 'correct horse battery\n');
    expectSentence(plain, 6, /cannot reach the Keeper server/);
  });

  it('names a CA file that cannot be read', async () => {
    const env = { KEEPER_SERVER: server.address, KEEPER_HOME: join(dir, 'home-d'), KEEPER_TLS: 'true', KEEPER_TLS_CA: join(dir, 'no-such-ca.crt') };
    const missing = await keeper(['login', '--login', 'tls-library'], env, 'correct horse battery\n');
    expectSentence(missing, 2, /--tls-ca \/ KEEPER_TLS_CA .*no-such-ca\.crt cannot be read \(no such file\)/);
  });

  it('a server given a certificate that cannot be read, or that is not PEM, says which setting and does not start', async () => {
    const args = (cert: string, key: string) => ['server', '--tls-cert', cert, '--tls-key', key, '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'server-data')];
    expectSentence(await keeper(args(join(dir, 'no-such.crt'), certs.key), {}), 2, /--tls-cert \/ KEEPER_TLS_CERT .*no-such\.crt cannot be read \(no such file\)/);
    const notPem = join(dir, 'not-pem.crt');
    await writeFile(notPem, 'this is not a certificate\n');
    expectSentence(await keeper(args(notPem, certs.key), {}), 2, /must be a PEM certificate and its private key/);
    // A certificate with a key that is not its own.
    expectSentence(await keeper(args(certs.cert, join(dir, 'keeper-test-ca.key')), {}), 2, /must be a PEM certificate and its private key/);
  });
});
