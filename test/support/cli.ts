import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';

export const KEEPER = join(import.meta.dirname, '..', '..', 'bin', 'keeper.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `keeper` command in a clean environment (PATH plus `env`), feeding `input` on stdin. */
export function keeper(args: string[], env: Record<string, string> = {}, input = '', cwd?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEEPER, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** No failure may show a stack trace: one line, prefixed with "keeper:". */
export function expectSentence(run: Run, exitCode: number, pattern: RegExp): void {
  expect(run.code, run.stderr).to.equal(exitCode);
  expect(run.stderr).to.match(/^keeper: /);
  expect(run.stderr.trim().split('\n')).to.have.length(1);
  expect(run.stderr).to.not.match(/\n\s+at /);
  expect(run.stderr).to.match(pattern);
}
