// The agent benchmark's measured process: a Keeper agent over the bench server, and beside it, in
// the same process, a bare route of the same framework (the HTTP floor the agent is compared with).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import Fastify from 'fastify';
import { loadAgentConfig } from '../../../src/config/agent-config.js';
import { startAgent } from '../../../src/client/agent/start-agent.js';
import { createLogger } from '../../../src/logging.js';

const server = process.argv[2]!;
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
const home = await mkdtemp(join(tmpdir(), 'keeper-bench-agent-'));
const rssBefore = process.memoryUsage().rss;
const agent = await startAgent(loadAgentConfig({ listen: '127.0.0.1:0', server, home, maxUsers: 100_000, logLevel: 'warn' }, {}), createLogger('warn', 'bench-agent'), { refreshMs: 60_000 });
const bare = Fastify({ logger: false });
// The same shape of answer as a small agent read: a JSON object, serialized by the framework.
bare.get('/bare', async () => ({ record: { id: '00000000-0000-4000-8000-000000000000', name: 'bare', fields: [] }, sync: { stale: false } }));
// And the same route answering as much as a search does (twenty summaries): the floor for the bytes.
const summary = (i: number) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, kind: 'login', name: `bare record ${i}`, fieldNames: ['user', 'password', 'url', 'notes', 'pin', 'email', 'phone', 'tag'], createdAt: new Date(0).toISOString(), updatedAt: new Date(0).toISOString(), version: 42, sealed: true });
const searchShaped = { hits: Array.from({ length: 20 }, (_, i) => ({ record: summary(i), matched: 'name' })), total: 20, sync: { version: 4200, pending: 0, stale: false, lastSyncAt: new Date(0).toISOString(), problem: null } };
bare.get('/bare-search', async () => searchShaped);
await bare.listen({ host: '127.0.0.1', port: 0 });
const bareAddress = bare.server.address();
say({ ready: { agent: `http://${agent.address}`, bare: `http://127.0.0.1:${typeof bareAddress === 'object' && bareAddress ? bareAddress.port : 0}`, rssBefore } });

// A CPU profile of the load alone (KEEPER_BENCH_PROFILE names its directory), not of the set-up.
const profileDir = process.env.KEEPER_BENCH_PROFILE;
// And with KEEPER_BENCH_HEAP_PROFILE, a sampling heap profile of the load: everything it allocated,
// what either collector took back included (the garbage a request leaves is what drives scavenges).
const heapProfileDir = process.env.KEEPER_BENCH_HEAP_PROFILE;
const inspector = profileDir || heapProfileDir ? new Session() : undefined;

// The collector's pauses during the load, by kind: what a long tail of latencies may come from.
const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
const pauses: Record<string, { count: number; ms: number; maxMs: number }> = {};
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const name = GC_KINDS[(entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    const kind = (pauses[name] ??= { count: 0, ms: 0, maxMs: 0 });
    kind.count++;
    kind.ms += entry.duration;
    kind.maxMs = Math.max(kind.maxMs, entry.duration);
  }
});

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'load') gcObserver.observe({ entryTypes: ['gc'] });
  if (line === 'loaded') {
    gcObserver.disconnect();
    say({ gc: pauses });
  }
  if (line === 'rss') {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    say({ rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, users: agent.users.size, open: agent.users.openCount, cpuMicros: cpu.user + cpu.system });
  } else if (line === 'load' && inspector) {
    inspector.connect();
    if (profileDir) {
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    }
    if (heapProfileDir) await inspector.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as object);
  } else if (line === 'loaded' && inspector) {
    if (profileDir) {
      const { profile } = await inspector.post('Profiler.stop');
      await writeFile(join(profileDir, `agent-load-${process.pid}.cpuprofile`), JSON.stringify(profile));
    }
    if (heapProfileDir) {
      const { profile } = await inspector.post('HeapProfiler.stopSampling');
      await writeFile(join(heapProfileDir, `agent-load-${process.pid}.heapprofile`), JSON.stringify(profile));
    }
    inspector.disconnect();
  } else if (line === 'stop') {
    await bare.close();
    await agent.stop();
    await rm(home, { recursive: true, force: true });
    process.exit(0);
  }
});
