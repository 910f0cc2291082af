// Whether dist/cli (scripts/build.mjs) was built from the files as they are now. No dependencies:
// bin/keeper.mjs asks at every start, before anything else is loaded. Built-in modules are taken
// with process.getBuiltinModule, not imported: an ES module import of node:fs builds a facade of
// every export of fs, which loads its streams (a few ms of every start).
const { readFileSync, statSync } = process.getBuiltinModule('node:fs');
const { join, sep } = process.getBuiltinModule('node:path');
const STAT_OPTIONS = { throwIfNoEntry: false };

export const STAMP_FILE = 'build-stamp.json';
export const STAMP_FORMAT = 3;

/** [path, size, mtimeMs] of each file (root-relative, / separated), or [path, null] when it is missing. */
export function fingerprint(root, paths) {
  return paths.map((path) => {
    const stats = statSync(join(root, path), STAT_OPTIONS);
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
  if (
    stamp?.format !== STAMP_FORMAT ||
    !Array.isArray(stamp.inputs) ||
    typeof stamp.entry !== 'string' ||
    typeof stamp.cacheId !== 'string' ||
    (stamp.encoding !== 'latin1' && stamp.encoding !== 'utf8')
  ) {
    return { current: false, reason: `${STAMP_FILE} of another format` };
  }
  // One stat a file, stopping at the first difference: this runs before every command (a few
  // hundred files), so the loop does no more than it must (no array of fingerprints, no join).
  const prefix = root.endsWith(sep) ? root : root + sep;
  for (const input of stamp.inputs) {
    const [path, size, mtime] = input;
    const stats = statSync(prefix + path, STAT_OPTIONS);
    if (stats === undefined ? size !== null : stats.size !== size || stats.mtimeMs !== mtime) {
      return { current: false, reason: `${path} ${stats === undefined ? 'is gone' : size === null ? 'appeared' : 'changed'} since the build` };
    }
  }
  return { current: true, entry: join(outDir, stamp.entry), cacheId: stamp.cacheId, encoding: stamp.encoding };
}
