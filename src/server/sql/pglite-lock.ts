import { open, readFile, rm } from 'node:fs/promises';

/** The embedded database is one process's: a second opener would corrupt it, so it must stop with a sentence. */
export class DataDirInUse extends Error {
  constructor(dir: string, pid: number) {
    super(`the embedded database at ${dir} is in use by process ${pid} (a running keeper up or server?); stop it first or set KEEPER_DATABASE_URL`);
    this.name = 'DataDirInUse';
  }
}

/** Takes `<dir>.lock` (holding our pid), taking over a lock whose process is gone; resolves to its release. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataDirInUse(dir, pid);
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
