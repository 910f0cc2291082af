import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StoredSession } from '../../src/client/token-store.js';

export interface DownloadLoad {
  /** Resolves once the downloads have received `bytes` in all. */
  flowing(bytes: number): Promise<void>;
  /** Stops the downloads (each finishes and is checked whole) and the process; the bytes received in all. */
  stop(): Promise<number>;
}

/**
 * Image downloads kept running by another process (download-load-child.ts), as other machines
 * would: the test's process, where the server runs, does none of the clients' work.
 */
export async function startDownloadLoad(address: string, session: StoredSession, imageId: string, size: number, downloads: number): Promise<DownloadLoad> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'download-load-child.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let received = 0;
  let stopped: ((bytes: number) => void) | undefined;
  const watchers: Array<{ bytes: number; resolve: () => void }> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { received?: number; stopped?: number };
    if (message.received !== undefined) {
      received = message.received;
      for (const watcher of watchers.filter((w) => received >= w.bytes)) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
    if (message.stopped !== undefined) stopped?.(message.stopped);
  });
  child.stdin!.write(`${JSON.stringify({ address, session, imageId, size, downloads })}\n`);
  return {
    flowing(bytes) {
      if (received >= bytes) return Promise.resolve();
      return new Promise((resolve, reject) => {
        watchers.push({ bytes, resolve });
        void exited.then((code) => reject(new Error(`the download process ended with code ${code}`)));
      });
    },
    async stop() {
      const total = new Promise<number>((resolve) => (stopped = resolve));
      child.stdin!.write('stop\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const [bytes, code] = await Promise.all([Promise.race([total, exited.then(() => -1)]), exited]);
      clearTimeout(timer);
      if (code !== 0 || bytes < 0) throw new Error(`the download process ended with code ${code}`);
      return bytes;
    },
  };
}
