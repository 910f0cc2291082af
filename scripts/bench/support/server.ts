import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeeperClient } from '../../../src/client/keeper-client.js';
import { FileTokenStore } from '../../../src/client/token-store.js';
import { createLogger } from '../../../src/logging.js';
import { defaultImageParts, startServer, type RunningApp } from '../../../src/composition/server-app.js';
import { TokenIssuer } from '../../../src/server/auth/tokens.js';
import type { Database } from '../../../src/server/sql/database.js';
import type { BenchContext } from '../types.js';

export const BENCH_PASSWORD = 'correct horse battery staple';

export interface BenchServer {
  app: RunningApp;
  address: string;
  /** Where this server keeps image bytes. */
  blobDir: string;
  /** A client with a session directory of its own (removed when the benchmark ends). */
  client(): Promise<{ client: KeeperClient; home: string }>;
}

export interface BenchServerOptions {
  /**
   * Run the projector inside the server, as `keeper up` does (default), or leave it to another
   * process, as a deployment with `keeper projector` does (then `app.projector` is undefined).
   */
  inlineProjector?: boolean;
  /** Make image renditions in the server (default); off when a benchmark measures transfers alone. */
  imaging?: boolean;
}

/**
 * A real Keeper server as `keeper up` runs it against PostgreSQL: inline projector (default
 * poll interval) unless told otherwise, bcrypt cost 10, an ephemeral port on 127.0.0.1. Stopped
 * when the benchmark ends.
 */
export async function startBenchServer(ctx: BenchContext, db: Database, options: BenchServerOptions = {}): Promise<BenchServer> {
  const blobDir = await mkdtemp(join(tmpdir(), 'keeper-bench-blobs-'));
  ctx.defer(() => rm(blobDir, { recursive: true, force: true }));
  const app = await startServer(
    db,
    {
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 4 * 1024 * 1024,
      tokenKey: await TokenIssuer.generateSecretKey(),
      auth: { bcryptCost: 10 },
      inlineProjector: options.inlineProjector ?? true,
      images: defaultImageParts(blobDir, { inlineWorker: options.imaging ?? true }),
    },
    createLogger(process.env.KEEPER_LOG_LEVEL ?? 'warn', 'bench-server'),
  );
  const clients: KeeperClient[] = [];
  const homes: string[] = [];
  ctx.defer(async () => {
    for (const client of clients) client.close();
    await app.stop();
    await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
  });
  return {
    app,
    blobDir,
    address: app.grpc.address,
    async client() {
      const home = await mkdtemp(join(tmpdir(), 'keeper-bench-'));
      homes.push(home);
      const client = new KeeperClient({ server: app.grpc.address, tls: false }, new FileTokenStore(home, app.grpc.address));
      clients.push(client);
      return { client, home };
    },
  };
}
