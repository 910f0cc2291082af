import { connect, type ClientHttp2Session } from 'node:http2';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Server } from '@grpc/grpc-js';
import { RECEIVE_WINDOW_BYTES, widenReceiveWindow } from '../../src/server/grpc/receive-window.js';
import { eventually } from '../support/eventually.js';

/**
 * grpc-js's server keeps HTTP/2's 64 KiB receive window unless Keeper widens it (see
 * receive-window.ts): an upload then waits for a WINDOW_UPDATE every chunk. This is what a client
 * is offered on a fresh connection, seen from a plain HTTP/2 client.
 */
describe('the gRPC server receive window', function () {
  let server: TestServer;
  let session: ClientHttp2Session | undefined;

  before(async () => {
    server = await startTestServer(pgliteTarget);
  });
  after(async () => {
    session?.destroy();
    await server.close();
  });

  it('offers every stream and the connection a window of 4 MiB, not HTTP/2 64 KiB', async () => {
    const opened = connect(`http://${server.address}`);
    session = opened;
    opened.on('error', () => undefined);
    const offered = () => ({ stream: opened.remoteSettings?.initialWindowSize, connection: opened.state?.remoteWindowSize });
    // The server's SETTINGS and WINDOW_UPDATE arrive shortly after the connection opens.
    await eventually('the server to widen its windows', () => (offered().stream === RECEIVE_WINDOW_BYTES && offered().connection === RECEIVE_WINDOW_BYTES ? true : undefined), 3_000).catch(() => undefined);
    expect(offered()).to.deep.equal({ stream: RECEIVE_WINDOW_BYTES, connection: RECEIVE_WINDOW_BYTES });
  });
});

describe('widening the receive window of a server it cannot reach into', function () {
  it('leaves the window as it is and says so, rather than stopping the server from starting', () => {
    const server = new Server();
    (server as unknown as { http2Servers: unknown }).http2Servers = undefined;
    expect(widenReceiveWindow(server)).to.equal(false);
    expect(widenReceiveWindow(new Server())).to.equal(true);
  });
});
