import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * mkdir -p one level at a time. Node's recursive mkdir never returns for a path under /proc (it
 * keeps retrying a parent that exists but refuses children), so missing levels are made one by
 * one from the deepest one that exists, each failure surfacing at once.
 */
export async function makeDirectory(path: string, mode = 0o700): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    const found = await stat(current).then(
      (info) => info,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      },
    );
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR', path: current });
      break;
    }
    if (dirname(current) === current) break;
    missing.unshift(current);
  }
  for (const dir of missing) {
    await mkdir(dir, { mode }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** A directory a setting names that cannot be made or written, in one sentence with the setting's name. */
export class UnusableDirectory extends Error {
  /** The file system's error code (ENOSPC, EACCES, ...), when there was one. */
  readonly code: string | undefined;

  constructor(
    readonly setting: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${setting} ${path} cannot be used: ${fileProblem(cause)}`);
    this.name = 'UnusableDirectory';
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }

  /** The disk is full, not the setting wrong. */
  get outOfSpace(): boolean {
    return this.code === 'ENOSPC' || this.code === 'EDQUOT';
  }
}

/**
 * Makes the directory a setting names (and its missing parents) and proves it writable by
 * writing and removing a small file, so a wrong path, a read-only or full disk or missing
 * permission is said at start, naming the setting, instead of in the middle of some later write.
 */
export async function ensureWritableDirectory(path: string, setting: string, mode = 0o700): Promise<void> {
  try {
    await makeDirectory(path, mode);
    const probe = join(path, `.keeper-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    const handle = await open(probe, 'wx', 0o600);
    try {
      await handle.writeFile('probe');
      await handle.sync();
    } finally {
      await handle.close();
      await unlink(probe).catch(() => {});
    }
  } catch (error) {
    throw new UnusableDirectory(setting, resolve(path), error);
  }
}

/** A file system error as the reason in a sentence (its code's meaning, not Node's "ENOSPC: ..., write"). */
export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'it cannot be created there (the file system does not allow it, or a parent is missing)';
    case 'ENOTDIR':
      return 'it or a parent is a file, not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'EEXIST':
      return 'it exists and is not a directory';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
