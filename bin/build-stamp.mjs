// Whether dist/cli (scripts/build.mjs) was built from the files as they are now. No dependencies:
// bin/keeper.mjs asks at every start, before anything else is loaded.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const STAMP_FILE = 'build-stamp.json';
export const STAMP_FORMAT = 2;

/** [path, size, mtimeMs] of each file (root-relative, / separated), or [path, null] when it is missing. */
export function fingerprint(root, paths) {
  return paths.map((path) => {
    const stats = statSync(join(root, path), { throwIfNoEntry: false });
    return stats ? [path, stats.size, stats.mtimeMs] : [path, null];
  });
}

/**
 * `{ current: true, entry }` when outDir holds a finished build whose every input (each source
 * file that went in, package.json, the lockfiles, tsconfig.json, the build script) still has the
 * size and modification time it had when built; otherwise `{ current: false, reason }`. Equality,
 * not "older than": a file edited, replaced by an older copy, checked out, added to the build's
 * inputs or removed from them all count as a change. A new source file no built file imports is
 * not one, since nothing built runs it.
 */
export function checkBuild(root, outDir = join(root, 'dist', 'cli')) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(outDir, STAMP_FILE), 'utf8'));
  } catch (error) {
    return { current: false, reason: error?.code === 'ENOENT' ? 'not built (npm run build)' : `unreadable ${STAMP_FILE}` };
  }
  if (stamp?.format !== STAMP_FORMAT || !Array.isArray(stamp.inputs) || typeof stamp.entry !== 'string' || typeof stamp.cacheId !== 'string') {
    return { current: false, reason: `${STAMP_FILE} of another format` };
  }
  const now = fingerprint(
    root,
    stamp.inputs.map((input) => input[0]),
  );
  for (let i = 0; i < now.length; i++) {
    const [path, size, mtime] = stamp.inputs[i];
    if (now[i][1] !== size || now[i][2] !== mtime) {
      return { current: false, reason: `${path} ${now[i][1] === null ? 'is gone' : size === null ? 'appeared' : 'changed'} since the build` };
    }
  }
  return { current: true, entry: join(outDir, stamp.entry), cacheId: stamp.cacheId };
}
