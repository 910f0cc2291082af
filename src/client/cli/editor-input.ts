import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

/**
 * A value edited in the user's editor ($VISUAL, then $EDITOR, else vi): written to a file only the
 * user can read, in a directory made for it, and removed when the editor exits, whatever happens.
 * One final line break (editors add it) is dropped.
 */
export async function editInEditor(current: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const editor = env.VISUAL || env.EDITOR || 'vi';
  const dir = await mkdtemp(join(tmpdir(), 'keeper-edit-'));
  const file = join(dir, 'value.txt');
  try {
    await writeFile(file, current === '' ? '' : `${current}\n`, { mode: 0o600 });
    // Through the shell, so an editor given with its arguments ("code --wait") works; the file is
    // passed as an argument, never spliced into the command line.
    const run = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'keeper-editor', file], { stdio: 'inherit', env });
    if (run.error) throw new CliError(`the editor (${editor}) could not be started: ${run.error.message}`, EXIT.failure);
    if (run.status !== 0) throw new CliError(`the editor (${editor}) exited with status ${run.status ?? run.signal}; nothing changed`, EXIT.failure);
    return (await readFile(file, 'utf8')).replace(/\r\n/g, '\n').replace(/\n$/, '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
