import { spawn } from 'node:child_process';
import { onPath } from './on-path.js';

export interface ClipboardTool {
  command: string;
  /** Arguments to put stdin on the clipboard. */
  copy: string[];
  /** Arguments to empty the clipboard (stdin is empty). */
  clear: string[];
}

const WAYLAND: ClipboardTool = { command: 'wl-copy', copy: [], clear: ['--clear'] };
const XCLIP: ClipboardTool = { command: 'xclip', copy: ['-selection', 'clipboard'], clear: ['-selection', 'clipboard'] };
const XSEL: ClipboardTool = { command: 'xsel', copy: ['--clipboard', '--input'], clear: ['--clipboard', '--clear'] };
const PBCOPY: ClipboardTool = { command: 'pbcopy', copy: [], clear: [] };


/**
 * The clipboard tool for this session: pbcopy on macOS, wl-copy under Wayland, xclip or xsel
 * under X. A tool without its display (xclip over SSH, say) would only fail, so it does not count.
 */
export function findClipboardTool(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): ClipboardTool | undefined {
  const candidates: ClipboardTool[] = [];
  if (platform === 'darwin') candidates.push(PBCOPY);
  if (env.WAYLAND_DISPLAY) candidates.push(WAYLAND);
  if (env.DISPLAY) candidates.push(XCLIP, XSEL);
  for (const tool of candidates) {
    const path = onPath(tool.command, env);
    if (path) return { ...tool, command: path };
  }
  return undefined;
}

export const CLIPBOARD_CLEAR_MS = 30_000;

/**
 * OSC 52: the terminal itself puts `text` on the clipboard of the machine it runs on, which is
 * what works over SSH, where no clipboard tool of this machine reaches the user's. (Inside tmux it
 * needs `set -g set-clipboard on`.)
 */
export function osc52(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

/**
 * What OSC 52 clears with: terminals and tmux ignore an empty or malformed payload rather than
 * emptying the clipboard, so the copied value is replaced by a single space.
 */
export const OSC52_CLEAR = osc52(' ');

/**
 * Copies values with an external tool, or else through the terminal (OSC 52, `terminal` writes
 * to it), and empties the clipboard again after a while.
 */
export class Clipboard {
  private clearTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tool: ClipboardTool | undefined,
    private readonly clearAfterMs = CLIPBOARD_CLEAR_MS,
    private readonly terminal?: ((data: string) => void) | undefined,
  ) {}

  get available(): boolean {
    return this.tool !== undefined || this.terminal !== undefined;
  }

  /** How a copy reaches the clipboard: a tool of this machine, the terminal (OSC 52), or nothing. */
  get way(): 'tool' | 'terminal' | undefined {
    return this.tool ? 'tool' : this.terminal ? 'terminal' : undefined;
  }

  /** Copies `text`; the clipboard is emptied after the delay (or at `clear()`). */
  async copy(text: string): Promise<void> {
    if (this.tool) await this.run(this.tool.copy, text);
    else if (this.terminal) this.terminal(osc52(text));
    else throw new Error('no clipboard tool was found (wl-copy, xclip, xsel or pbcopy) and there is no terminal to copy through');
    if (this.clearTimer) clearTimeout(this.clearTimer);
    this.clearTimer = setTimeout(() => void this.clear().catch(() => undefined), this.clearAfterMs);
  }

  /** Empties the clipboard if a copied value may still be on it. */
  async clear(): Promise<void> {
    if (!this.clearTimer) return;
    clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
    if (this.tool) await this.run(this.tool.clear, '');
    else this.terminal?.(OSC52_CLEAR);
  }

  get armed(): boolean {
    return this.clearTimer !== undefined;
  }

  private run(args: string[], input: string): Promise<void> {
    const tool = this.tool!;
    return new Promise((resolve, reject) => {
      // stdout and stderr are ignored: xclip keeps running to serve the selection and must not hold our pipes.
      const child = spawn(tool.command, args, { stdio: ['pipe', 'ignore', 'ignore'] });
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`the clipboard tool ${tool.command} did not finish in 5 seconds`));
      }, 5000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`the clipboard tool ${tool.command} could not run: ${error.message}`));
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`the clipboard tool ${tool.command} failed (exit code ${code})`));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
  }
}
