import { spawn } from 'node:child_process';
import { onPath } from './on-path.js';

/** The desktop's "open this file" command: xdg-open, or open on macOS; undefined when there is none. */
export function findOpener(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  return onPath(platform === 'darwin' ? 'open' : 'xdg-open', env);
}

/**
 * Hands a file to the desktop's viewer and lets it go: detached, no terminal (so it cannot draw
 * over the screen), not waited for. Resolves once it started; rejects if it could not start.
 */
export class FileOpener {
  constructor(readonly command: string | undefined) {}

  get name(): string {
    return process.platform === 'darwin' ? 'open' : 'xdg-open';
  }

  open(path: string): Promise<void> {
    const command = this.command;
    if (!command) return Promise.reject(new Error(`${this.name} was not found`));
    return new Promise((resolve, reject) => {
      const child = spawn(command, [path], { detached: true, stdio: 'ignore' });
      child.once('error', (error) => reject(new Error(`${command} could not run: ${error.message}`)));
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
    });
  }
}
