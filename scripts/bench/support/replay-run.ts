/**
 * One measured run of the replay benchmark, in a process of its own so that its peak RSS is the
 * replay's and not the generator's: `node --import tsx replay-run.ts <raw|replay|verify> <url>`.
 * Opens the database the way `keeper audit` does (read-only connection, one snapshot) and prints
 * one JSON line: { events, ms, cpuMs, peakRssMb, peakHeapMb, differences }.
 */
import { performance } from 'node:perf_hooks';
import { openAuditDatabase } from '../../../src/cli/audit-database.js';
import { streamIdForUser } from '../../../src/domain/vault-state.js';
import { withAuditSnapshot } from '../../../src/audit/audit-source.js';
import { REPLAY_PAGE, replayStreams } from '../../../src/audit/replay.js';
import { verifyReadModel } from '../../../src/audit/verify.js';

const [mode, url] = process.argv.slice(2);
if (!url || !['raw', 'replay', 'verify'].includes(mode ?? '')) {
  process.stderr.write('usage: replay-run.ts <raw|replay|verify> <database url>\n');
  process.exit(2);
}

let peakHeap = process.memoryUsage().heapUsed;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 20);

const db = await openAuditDatabase({ databaseUrl: url, dataDir: '.keeper' });
let events = 0;
let differences = 0;
const started = performance.now();
const cpuBefore = process.cpuUsage();
await withAuditSnapshot(db, async (source) => {
  const streams = await source.userStreams();
  if (mode === 'verify') {
    const report = await verifyReadModel(source);
    events = report.events;
    differences = report.differences.length;
    return;
  }
  if (mode === 'replay') {
    const all = [...streams].map(([userId, version]) => ({ streamId: streamIdForUser(userId), streamVersion: version }));
    for await (const { state } of replayStreams(source.store, all)) events += state.version;
    return;
  }
  // The floor: the same pages with the same statement (the store's readStream), two streams in
  // flight like the replay, rows only.
  const readAll = async (stream: string, version: number) => {
    let count = 0;
    for (let next = 1; next <= version; next += REPLAY_PAGE) {
      count += (await source.store.readStream(stream, next, Math.min(REPLAY_PAGE, version - next + 1))).length;
    }
    return count;
  };
  const all = [...streams];
  const started = (index: number) => (index < all.length ? readAll(streamIdForUser(all[index]![0]), all[index]![1]) : undefined);
  let ahead = started(0);
  let afterThat = started(1);
  for (let index = 0; index < all.length; index++) {
    events += await ahead!;
    ahead = afterThat;
    afterThat = started(index + 2);
  }
});
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
await db.close();
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
// CPU time of this process (the audit's own work, not PostgreSQL's): on a shared machine the
// wall-clock rate also measures the neighbours, events per CPU-second less so.
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ events, ms, cpuMs, peakRssMb: mb(process.resourceUsage().maxRSS * 1024), peakHeapMb: mb(peakHeap), differences })}\n`);
