import { spawn, type ChildProcess } from 'node:child_process';
import { KEEPER } from './cli.js';

/** A `keeper` process a test runs, with its stderr (the JSON log) kept line by line. */
export interface KeeperProcess {
  name: string;
  process: ChildProcess;
  stderr: string[];
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export function startKeeper(name: string, args: string[], env: Record<string, string>): KeeperProcess {
  const child: KeeperProcess = { name, process: spawn(process.execPath, [KEEPER, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] }), stderr: [], exited: undefined };
  let partial = '';
  child.process.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    child.stderr.push(...lines.filter((line) => line.trim() !== ''));
  });
  child.process.on('exit', (code, signal) => (child.exited = { code, signal }));
  return child;
}

export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The first log line whose msg is `message`, once the process has written it. */
export function started(child: KeeperProcess, message: string): Promise<Record<string, unknown>> {
  return until(`${child.name} to start`, () => {
    if (child.exited) throw new Error(`${child.name} exited (${JSON.stringify(child.exited)}): ${child.stderr.join('\n')}`);
    for (const line of child.stderr) {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.msg === message) return parsed;
      } catch {
        // not a log line
      }
    }
    return undefined;
  });
}
