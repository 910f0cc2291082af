// The replicas benchmark's measured process: opens many users' replicas from one shared channel
// and reports its own memory, so the server's memory (another process) is not counted.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { KeeperClient } from '../../../src/client/keeper-client.js';
import { openChannelCount } from '../../../src/client/grpc-channel.js';
import { grpcVaultTransport } from '../../../src/client/sync/grpc-transport.js';
import { MemoryReplicaStore } from '../../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../../src/client/sync/sync-engine.js';
import { MemoryTokenStore, type StoredSession } from '../../../src/client/token-store.js';

interface Input {
  address: string;
  sessions: StoredSession[];
  queries: string[];
}

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function settle(): number {
  gc!();
  gc!();
  return process.memoryUsage().rss;
}

const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
const rssBefore = settle();
const engines: SyncEngine[] = [];
const clients: KeeperClient[] = [];
const started = performance.now();
for (const [i, session] of input.sessions.entries()) {
  const tokens = new MemoryTokenStore();
  await tokens.save(session);
  const client = new KeeperClient({ server: input.address, tls: false }, tokens, 60_000, 'bench-agent');
  clients.push(client);
  const engine = await SyncEngine.open({ transport: grpcVaultTransport(client), store: new MemoryReplicaStore(), userId: session.userId, clientId: 'bench-agent' });
  await engine.sync();
  engines.push(engine);
  if ((i + 1) % 100 === 0) say({ progress: `${i + 1} replicas open` });
}
const openMs = performance.now() - started;
const rssOpen = settle();
const records = engines.reduce((sum, e) => sum + e.records().length, 0);

// The first search of each freshly opened replica builds its index; then the user goes idle and
// the index is let go. The process's code is warmed first on the first replica (searched again
// and again, its index dropped each time), which is then left out: a long-running agent compiles
// its search once, not per user, and what is measured is a fresh replica, not a cold process.
const WARM_UP_SEARCHES = 50;
for (let i = 0; i < WARM_UP_SEARCHES; i++) {
  engines[0]!.search(input.queries[i % input.queries.length]!, { limit: 50 });
  engines[0]!.forgetSearch();
}
const firstSearchMs: number[] = [];
let hits = 0;
for (const [i, engine] of engines.entries()) {
  if (i === 0) continue;
  const query = input.queries[i % input.queries.length]!;
  const t = performance.now();
  hits += engine.search(query, { limit: 50 }).total;
  firstSearchMs.push(performance.now() - t);
  engine.forgetSearch();
}
const rssAfterSearch = settle();
say({ result: { users: engines.length, records, rssBefore, rssOpen, rssAfterSearch, openMs, firstSearchMs, hits, channels: openChannelCount() } });
for (const client of clients) client.close();
