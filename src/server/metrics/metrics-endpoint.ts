import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { splitHostPort } from '../../config/env.js';

export interface RunningMetricsEndpoint {
  address: string;
  stop(): Promise<void>;
}

/**
 * Serves GET /metrics (Prometheus text format) on a port of its own, apart from the gRPC port, so
 * it can be left to a private network. Anything else is a 404 problem.
 */
export async function startMetricsEndpoint(listen: string, registry: Registry): Promise<RunningMetricsEndpoint> {
  const { host, port } = splitHostPort(listen);
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && (request.url === '/metrics' || request.url?.startsWith('/metrics?'))) {
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(text);
        },
        () => {
          response.writeHead(500, { 'content-type': 'application/problem+json' });
          response.end(JSON.stringify({ title: 'metrics could not be collected', status: 500 }));
        },
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'application/problem+json' });
    response.end(JSON.stringify({ title: 'not found', status: 404, detail: 'this port serves GET /metrics only' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot serve metrics on ${listen}: ${error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message}`)),
    );
    server.listen(port, host, resolve);
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : listen;
  return {
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
