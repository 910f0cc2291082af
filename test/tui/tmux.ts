import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readFileIfExists } from '../../src/lib/atomic-file.js';
import { KEEPER } from '../support/cli.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Drives the real `keeper tui` in tmux panes for the end-to-end tests: keys in, screen text out. */

const run = promisify(execFile);

export interface PaneSize {
  width: number;
  height: number;
}

/** One tmux server of our own (its own socket), with panes of exactly the size asked for. */
export class Tmux {
  private constructor(
    private readonly socket: string,
    private readonly config: string,
    private readonly dir: string,
  ) {}

  static async start(dir: string): Promise<Tmux> {
    const config = join(dir, 'tmux.conf');
    // No status line (the pane gets all 24 rows) and dead panes stay, so their exit status can be read.
    await writeFile(config, 'set -g status off\nset -g remain-on-exit on\n');
    return new Tmux(`keeper-tui-${process.pid}-${randomUUID().slice(0, 8)}`, config, dir);
  }

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-L', this.socket, '-f', this.config, ...args]);
    return stdout;
  }

  /** Starts the real `keeper tui` in a fresh pane (80x24 unless told), with only the environment given. */
  async open(name: string, env: Record<string, string>, args: string[] = [], size: PaneSize = { width: 80, height: 24 }): Promise<Pane> {
    const vars = Object.entries({ PATH: process.env.PATH ?? '', LANG: 'C.UTF-8', TERM: 'screen', ...env }).map(([k, v]) => `${k}=${v}`);
    // tmux runs this with sh, which writes the exit status where exitStatus() looks for it.
    const statusFile = join(this.dir, `${name}.status`);
    const command = `${['env', '-i', ...vars, process.execPath, KEEPER, 'tui', ...args].map(shellQuote).join(' ')}; echo $? > ${shellQuote(statusFile)}`;
    await this.tmux('new-session', '-d', '-x', String(size.width), '-y', String(size.height), '-s', name, command);
    return new Pane(this, name, statusFile);
  }

  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }
}

export class Pane {
  constructor(
    private readonly tmux: Tmux,
    readonly name: string,
    private readonly statusFile: string,
  ) {}

  async screen(): Promise<string> {
    return this.tmux.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Presses keys by tmux name ('Enter', 'Tab', 'C-s', 'Down'), one command per key, in order. */
  async keys(...keys: string[]): Promise<void> {
    for (const key of keys) await this.tmux.tmux('send-keys', '-t', this.name, key);
  }

  async type(text: string): Promise<void> {
    await this.tmux.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** Polls the screen until it shows `expected`; fails with the last screen after the timeout. */
  async waitFor(expected: string | RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (typeof expected === 'string' ? screen.includes(expected) : expected.test(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the screen never showed ${String(expected)}; it shows:\n${screen}`);
  }

  /** Waits for the program to end and gives its exit status. */
  async exitStatus(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const status = (await readFileIfExists(this.statusFile))?.trim();
      if (status) return Number(status);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`keeper tui in ${this.name} did not exit; the screen shows:\n${await this.screen()}`);
  }

  /** A tmux command on this pane's server (`set-option`, `show-buffer`, ...). */
  async tmuxCommand(...args: string[]): Promise<string> {
    return this.tmux.tmux(...args);
  }

  /** tmux's newest paste buffer ('' when there is none): where an OSC 52 copy lands with set-clipboard on. */
  async pasteBuffer(): Promise<string> {
    return this.tmux.tmux('show-buffer').catch(() => '');
  }

  async resize(width: number, height: number): Promise<void> {
    await this.tmux.tmux('resize-window', '-t', this.name, '-x', String(width), '-y', String(height));
  }

  async close(): Promise<void> {
    await this.tmux.tmux('kill-session', '-t', this.name).catch(() => undefined);
  }
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface TmuxSuite {
  /** Filled in by the suite's first before() hook. */
  server: TestServer;
  dir: string;
  /** A pane running `keeper tui` with `env`, closed after the suite. */
  open(name: string, env: Record<string, string>, args?: string[], size?: PaneSize): Promise<Pane>;
}

/**
 * Registers the hooks every terminal UI suite needs, inside its describe(): a tmux server on its
 * own socket, a test server (PGlite) and a temp directory, all removed afterwards. CI installs
 * tmux (.ci/run), so there a missing tmux fails the suite instead of skipping it.
 */
export function tmuxSuite(dirPrefix: string): TmuxSuite {
  let tmux: Tmux | undefined;
  const panes: Pane[] = [];
  const suite = {
    open: async (name: string, env: Record<string, string>, args: string[] = [], size?: PaneSize) => {
      const pane = await tmux!.open(name, env, args, size);
      panes.push(pane);
      return pane;
    },
  } as TmuxSuite;
  before(async function () {
    try {
      await run('tmux', ['-V']);
    } catch {
      if (process.env.CI) throw new Error('tmux is needed for the terminal UI tests and is not installed');
      this.skip();
    }
    suite.dir = await mkdtemp(join(tmpdir(), dirPrefix));
    tmux = await Tmux.start(suite.dir);
    suite.server = await startTestServer(pgliteTarget);
  });
  after(async () => {
    for (const pane of panes) await pane.close();
    await tmux?.kill();
    await suite.server?.close();
    // A killed pane's keeper may still be saving its replica (a temp file, then a rename) as it
    // exits on SIGHUP: removing the folder meanwhile meets a file made after it was listed.
    if (suite.dir) await rm(suite.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  return suite;
}
