import { spawn } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Killed (TERM, then KILL) after this long, and the run fails saying so. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output; never throws for a non-zero exit. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult & { timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }, options.timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    if (child.stdin) {
      // A command that exits before reading its input is answered by its exit code, not an EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** Runs a command that must succeed: its stdout, or an error quoting the end of what it said. */
export async function mustRun(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code === 0 && !result.timedOut) return result.stdout;
  const said = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-25).join('\n');
  const why = result.timedOut ? `did not finish within ${Math.round(options.timeoutMs! / 1000)} s` : `exited with ${result.code}`;
  throw new Error(`${command} ${args.join(' ')} ${why}:\n${said}`);
}
