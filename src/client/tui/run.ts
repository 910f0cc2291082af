import { join } from 'node:path';
import type { ClientConfig } from '../../config/client-config.js';
import { createLogger } from '../../logging.js';
import { App } from './app.js';
import { Clipboard, CLIPBOARD_CLEAR_MS, findClipboardTool } from './clipboard.js';
import { loadTuiConfig } from './config.js';
import { FileOpener, findOpener } from './opener.js';
import { TuiAccount } from './account.js';
import { Widgets } from './widgets.js';

export interface RunTuiOptions {
  config: ClientConfig;
  flags: { autoLock?: string | undefined; syncEvery?: string | undefined };
  env: NodeJS.ProcessEnv;
  clientId: string;
}

/**
 * `keeper tui`: builds the terminal UI from validated config and runs it until the user quits.
 * The screen belongs to the UI while it runs, so logs go to KEEPER_HOME/logs/tui.log and anything
 * a library prints on stderr is sent there too instead of tearing up the screen.
 */
export async function runTui(options: RunTuiOptions): Promise<void> {
  const tuiConfig = loadTuiConfig(options.flags, options.env);
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new Error('the terminal UI needs a terminal: run keeper tui in one, not through a pipe');
  const logger = createLogger(options.config.logLevel, 'keeper-tui', join(options.config.home, 'logs', 'tui.log'));
  const account = new TuiAccount({ config: options.config, clientId: options.clientId, sessionSecret: options.env.KEEPER_SESSION || undefined, logger });
  const widgets = new Widgets();
  const app = new App({ account, widgets, clipboard: new Clipboard(findClipboardTool(options.env), CLIPBOARD_CLEAR_MS, process.stdout.isTTY ? (data) => void process.stdout.write(data) : undefined), autoLockMs: tuiConfig.autoLockMs, syncEveryMs: tuiConfig.syncEveryMs, opener: new FileOpener(findOpener(options.env)), logger });

  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    logger.warn({ stderr: String(chunk).trimEnd() }, 'output on stderr while the TUI runs');
    return true;
  }) as typeof process.stderr.write;
  const quit = () => void app.quit();
  // A bug that escapes every handler still ends with a usable terminal and one sentence.
  let crashed: unknown;
  const crash = (error: unknown) => {
    logger.fatal({ err: error }, 'the TUI crashed');
    crashed = error;
    void app.quit();
  };
  process.on('SIGTERM', quit);
  process.on('SIGHUP', quit);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  try {
    await app.run();
  } finally {
    process.off('SIGTERM', quit);
    process.off('SIGHUP', quit);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    process.stderr.write = stderrWrite;
  }
  if (crashed) throw new Error(`the TUI stopped after an unexpected error (details in ${join(options.config.home, 'logs', 'tui.log')}): ${crashed instanceof Error ? crashed.message : String(crashed)}`);
}
