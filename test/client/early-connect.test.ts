import { createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';

/**
 * `KeeperClient.connect()`: the CLI opens the connection while it reads the local copy, before the
 * first call (a gRPC channel otherwise connects at its first call only).
 */
describe('a client connecting before its first call', () => {
  let server: Server;
  let address: string;
  let connections = 0;
  const sockets = new Set<Socket>();

  before(async () => {
    // Only TCP: what is measured is whether the client dials, not what it says.
    server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    address = `127.0.0.1:${port}`;
  });

  after(() => {
    // The client never hears an HTTP/2 answer, so its connection is ended here.
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const waitFor = async (condition: () => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (!condition() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    return condition();
  };

  it('does not dial until told to or called', async () => {
    const before = connections;
    const client = new KeeperClient({ server: address, tls: false }, new MemoryTokenStore());
    try {
      expect(await waitFor(() => connections > before, 300)).to.equal(false);
    } finally {
      client.close();
    }
  });

  it('dials at connect(), with no call made', async () => {
    const before = connections;
    const client = new KeeperClient({ server: address, tls: false }, new MemoryTokenStore());
    try {
      client.connect();
      expect(await waitFor(() => connections > before, 5_000)).to.equal(true);
    } finally {
      client.close();
    }
  });
});
