import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process's JSON lines on stdout, awaited one kind at a time. */
export function lines(child: ChildProcess, name: string): { next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> } {
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<{ match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = [];
  let ended: Error | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    // (A line that is no message, from a flag such as --trace-gc, goes to stderr as it is.)
    if (!line.startsWith('{')) {
      process.stderr.write(`${line}\n`);
      return;
    }
    const message = JSON.parse(line) as Record<string, unknown>;
    const index = waiting.findIndex((w) => w.match(message));
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message);
    else queue.push(message);
  });
  child.on('exit', (code) => {
    ended = new Error(`the ${name} process ended with code ${code}`);
  });
  return {
    next(match) {
      const index = queue.findIndex(match);
      if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0]!);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => {
        waiting.push({ match, resolve });
        child.once('exit', () => reject(ended));
      });
    },
  };
}

/** Asks a child to stop (a `stop` line on its stdin), killing it if it has not exited within 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.write('stop\n');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
