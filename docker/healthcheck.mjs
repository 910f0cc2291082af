// The image's HEALTHCHECK: asks the running Keeper process itself, by its role (read from the
// container's first process, `tini -- node dist/cli/main.cjs <role>`), and exits 0 when it is well:
//
//   server              grpc.health.v1.Health/Check for "" answers SERVING (its database answers)
//   agent               GET /v1/openapi.json of the agent's API answers 200
//   projector, imaging  GET /healthz on KEEPER_HEALTH_LISTEN answers 200 (its database answers)
//   bot                 the same, when KEEPER_HEALTH_LISTEN is set
//
// Plain node:http2 / node:http(s), no packages: it runs every few seconds in every container.
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import http from 'node:http';
import https from 'node:https';

const TIMEOUT_MS = 4000;

function role() {
  const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
  const at = args.findIndex((arg) => /(^|\/)(main\.cjs|keeper\.mjs|keeper)$/.test(arg));
  return at >= 0 ? args[at + 1] : undefined;
}

/** host:port -> a host to dial from inside the container (a wildcard listen is dialled on loopback). */
function dialable(listen, fallback) {
  const value = listen || fallback;
  const at = value.lastIndexOf(':');
  let host = value.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  return { host, port: Number(value.slice(at + 1)) };
}

function fail(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

/** grpc.health.v1.Health/Check with an empty request (service ""): the answer's field 1 is the status, 1 = SERVING. */
function checkServer() {
  const { host, port } = dialable(process.env.KEEPER_LISTEN, '127.0.0.1:7070');
  const tls = Boolean(process.env.KEEPER_TLS_CERT);
  // The server's certificate names the host clients dial, not loopback: this asks the process beside it.
  const session = connect(`${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`, { rejectUnauthorized: false });
  session.on('error', (error) => fail(`server: ${error.message}`));
  const stream = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
  const chunks = [];
  let grpcStatus;
  stream.on('response', (headers) => {
    if (headers['grpc-status'] !== undefined) grpcStatus = headers['grpc-status'];
  });
  stream.on('trailers', (trailers) => {
    grpcStatus = trailers['grpc-status'];
  });
  stream.on('data', (chunk) => chunks.push(chunk));
  stream.on('end', () => {
    session.close();
    if (grpcStatus !== '0') return fail(`server: health check answered gRPC status ${grpcStatus}`);
    const body = Buffer.concat(chunks);
    // 5-byte frame header, then the message: 0x08 <status>; an empty message is status 0 (UNKNOWN).
    const status = body.length >= 7 && body[5] === 0x08 ? body[6] : 0;
    if (status !== 1) return fail(`server: health status ${['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][status] ?? status}`);
    process.exit(0);
  });
  stream.on('error', (error) => fail(`server: ${(error.cause ?? error).message}`));
  stream.end(Buffer.from([0, 0, 0, 0, 0]));
}

function checkHttp(what, { host, port }, path, tls, ca) {
  const request = (tls ? https : http).get(
    { host, port, path, headers: { host: `${host}:${port}` }, ...(tls ? { ca, servername: 'localhost', rejectUnauthorized: Boolean(ca) } : {}) },
    (response) => {
      response.resume();
      if (response.statusCode === 200) process.exit(0);
      fail(`${what}: ${path} answered ${response.statusCode}`);
    },
  );
  request.on('error', (error) => fail(`${what}: ${error.message}`));
}

setTimeout(() => fail(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();
// KEEPER_HEALTHCHECK_ROLE names the role outright (the tests run this script beside, not inside, a container).
const which = process.env.KEEPER_HEALTHCHECK_ROLE || role();
switch (which) {
  case 'server':
  case 'up':
    checkServer();
    break;
  case 'agent': {
    const cert = process.env.KEEPER_AGENT_TLS_CERT;
    checkHttp('agent', dialable(process.env.KEEPER_AGENT_LISTEN, '127.0.0.1:7071'), '/v1/openapi.json', Boolean(cert), undefined);
    break;
  }
  case 'projector':
  case 'imaging':
  case 'bot':
    if (!process.env.KEEPER_HEALTH_LISTEN) fail(`${which}: KEEPER_HEALTH_LISTEN is not set, so it has no health endpoint to ask`);
    checkHttp(which, dialable(process.env.KEEPER_HEALTH_LISTEN), '/healthz', false);
    break;
  default:
    fail(`no Keeper role found in the container's command (${which ?? 'none'})`);
}
