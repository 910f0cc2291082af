import { readFileSync, readdirSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux that matters). */
const USER_HZ = 100;

export interface CpuSnapshot {
  /** CPU of this process, every thread (server, load worker, V8 and libuv helpers). */
  processMs: number;
  /** CPU of the main thread alone (the server's event loop); null off Linux. */
  mainThreadMs: number | null;
  /** CPU of every local PostgreSQL process (other users' work included); null when not visible. */
  postgresMs: number | null;
  elu: EventLoopUtilization;
}

export function cpuSnapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    processMs: (usage.user + usage.system) / 1000,
    mainThreadMs: statCpuMs(`/proc/self/task/${process.pid}/stat`),
    postgresMs: postgresCpuMs(),
    elu: performance.eventLoopUtilization(),
  };
}

/** "CPU per call" line: where the machine's time went between two snapshots. */
export function describeCpu(before: CpuSnapshot, after: CpuSnapshot, calls: number, unit: string, mainThread: string): string {
  const per = (ms: number) => `${(ms / calls).toFixed(2)} ms`;
  const parts = [`this process ${per(after.processMs - before.processMs)}`];
  if (before.mainThreadMs !== null && after.mainThreadMs !== null) parts.push(`of which the ${mainThread} ${per(after.mainThreadMs - before.mainThreadMs)}`);
  if (before.postgresMs !== null && after.postgresMs !== null) parts.push(`local PostgreSQL processes ${per(after.postgresMs - before.postgresMs)}`);
  const elu = performance.eventLoopUtilization(after.elu, before.elu).utilization;
  return `CPU per ${unit}: ${parts.join(', ')}; the ${mainThread}'s event loop was busy ${(elu * 100).toFixed(0)}% of the time`;
}

function statCpuMs(path: string): number | null {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / USER_HZ) * 1000;
  } catch {
    return null;
  }
}

function postgresCpuMs(): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let total = 0;
  let seen = false;
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres')) continue;
    } catch {
      continue;
    }
    const ms = statCpuMs(`/proc/${pid}/stat`);
    if (ms === null) continue;
    total += ms;
    seen = true;
  }
  return seen ? total : null;
}
