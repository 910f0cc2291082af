import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port to give the client instead of the target's. */
  address: string;
  /** The target is out of reach: open connections are cut, new ones refused. */
  cut(): void;
  mend(): void;
  /** Bytes the clients sent through so far (which replica a balanced client is using). */
  received(): number;
  close(): Promise<void>;
}

/**
 * A loopback TCP relay in front of a server, so one client (the agent) can lose the server while
 * other devices keep reaching it directly, and get it back on the same address.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  let down = false;
  let received = 0;
  const server: Server = createServer((incoming) => {
    if (down) return incoming.destroy();
    const outgoing = connect(port, host);
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    incoming.on('data', (chunk: Buffer) => (received += chunk.length));
    incoming.pipe(outgoing).pipe(incoming);
    incoming.on('close', () => outgoing.destroy());
    outgoing.on('close', () => incoming.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  const address = `127.0.0.1:${typeof bound === 'object' && bound ? bound.port : 0}`;
  return {
    address,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    mend() {
      down = false;
    },
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        down = true;
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
