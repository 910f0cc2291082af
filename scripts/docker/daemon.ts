import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A dockerd of the test's own: its data, state and socket under one temporary directory. */
export interface Daemon {
  pid: number;
  /** For DOCKER_HOST. */
  host: string;
  dir: string;
  log: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts dockerd in the background (the package's service start is blocked here) and waits until it answers. */
export async function startDaemon(dir: string): Promise<Daemon> {
  const log = join(dir, 'dockerd.log');
  const socket = join(dir, 'docker.sock');
  // Images and containers in memory: no disk to wait for while building, and nothing to delete
  // file by file at the end (an unmount). Only what is stored takes memory (a few GB here).
  const data = join(dir, 'data');
  mkdirSync(data);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12g,mode=0711', 'keeper-docker-test', data], { stdio: 'ignore' });
  } catch {
    // No tmpfs to be had: the daemon keeps its data on disk, which is only slower.
  }
  const output = openSync(log, 'a');
  const child = spawn(
    'dockerd',
    ['--data-root', data, '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`, '--log-level', 'warn'],
    { detached: true, stdio: ['ignore', output, output] },
  );
  child.unref();
  const daemon = { pid: child.pid!, host: `unix://${socket}`, dir, log };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: daemon.host }, stdio: 'ignore' });
      return daemon;
    } catch {
      if (!alive(daemon.pid)) throw new Error(`dockerd exited at start; its log says:\n${tail(log)}`);
      if (Date.now() > deadline) throw new Error(`dockerd did not answer within 60 s; its log says:\n${tail(log)}`);
      await sleep(250);
    }
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Processes whose command line names `dir`: the daemon's own containerd and its container shims. */
function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(dir))) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/**
 * Stops the daemon by its pid: TERM, which stops its containers and containerd, then KILL after
 * 30 s. Whatever of its own is still running after that (a shim named by its directory) is
 * killed by pid too, and every mount under its directory is released.
 */
export async function stopDaemon(daemon: Daemon): Promise<string[]> {
  const problems: string[] = [];
  if (alive(daemon.pid)) {
    process.kill(daemon.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(daemon.pid) && Date.now() < deadline) await sleep(200);
    if (alive(daemon.pid)) {
      problems.push('dockerd did not stop within 30 s of TERM: killed');
      process.kill(daemon.pid, 'SIGKILL');
      while (alive(daemon.pid)) await sleep(100);
    }
  }
  for (const pid of processesUnder(daemon.dir)) {
    problems.push(`process ${pid} of the daemon's was still running: killed`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  // Deepest first: overlay mounts and network namespaces the daemon left.
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((point): point is string => Boolean(point && point.startsWith(daemon.dir)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    } catch {
      problems.push(`${point} could not be unmounted`);
    }
  }
  return problems;
}
