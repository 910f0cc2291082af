import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ByteCount {
  /** Client to server (TCP payload bytes: HTTP/2 frames, TLS-free here; no IP/TCP headers). */
  sent: number;
  /** Server to client. */
  received: number;
  /** TCP connections opened through the proxy. */
  connections: number;
}

export interface ByteProxy {
  /** host:port to give the client instead of the server's. */
  address: string;
  /** Counts since the last reset. */
  count(): ByteCount;
  /** Connections opened since the proxy started (never reset). */
  connectionsOpened(): number;
  reset(): void;
  /** Counts what `fn` causes on the wire, including the frames that trail its answer. */
  measure<T>(fn: () => Promise<T>): Promise<{ bytes: ByteCount; result: T }>;
  close(): Promise<void>;
}

/** How long a measurement waits for trailing frames (WINDOW_UPDATE, PING acks) after the call returns. */
const SETTLE_MS = 150;

/**
 * A TCP proxy on 127.0.0.1 that forwards to `target` and counts the bytes in each direction, so
 * a benchmark sees what really crosses the wire (HTTP/2 framing, headers and all). `tap` sees
 * every chunk, either way (a test that checks what a third party on the wire could read).
 */
export async function startByteProxy(target: string, options: { tap?: (chunk: Buffer) => void } = {}): Promise<ByteProxy> {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon);
  const port = Number(target.slice(colon + 1));
  const counts: ByteCount = { sent: 0, received: 0, connections: 0 };
  let opened = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    counts.connections++;
    opened++;
    const outbound = net.connect(port, host);
    for (const socket of [inbound, outbound]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    inbound.on('data', (chunk: Buffer) => {
      counts.sent += chunk.length;
      options.tap?.(chunk);
    });
    outbound.on('data', (chunk: Buffer) => {
      counts.received += chunk.length;
      options.tap?.(chunk);
    });
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end);
    outbound.on('error', end);
    inbound.on('close', end);
    outbound.on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const reset = () => {
    counts.sent = 0;
    counts.received = 0;
    counts.connections = 0;
  };
  return {
    address: `127.0.0.1:${address.port}`,
    count: () => ({ ...counts }),
    connectionsOpened: () => opened,
    reset,
    async measure(fn) {
      await sleep(SETTLE_MS);
      reset();
      const result = await fn();
      await sleep(SETTLE_MS);
      return { bytes: { ...counts }, result };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
