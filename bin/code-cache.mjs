// Runs the built CLI (one CommonJS file) with a V8 code cache, as Node 22's
// module.enableCompileCache() does for every module and Node 20 does not: the bytecode of the
// functions a command ran is kept beside the build, so the next start deserialises it instead of
// parsing and compiling ~2 MB of JavaScript again (about a third of `keeper ls`'s CPU time).
//
// One cache per command (`ls`, `show`, `up`, ...): a cache holds what its run compiled, so `keeper
// --help` first would otherwise leave `ls` a cache without its code. A cache is written when the
// command exits and none was there or V8 refused the one there (another Node, other V8 flags, a
// new build). Writing is best effort: an unwritable dist/ only costs the cache.
//
// Built-in modules through process.getBuiltinModule rather than imports, which cost an ES module
// facade each (bin/build-stamp.mjs says why that matters).
const { mkdirSync, readFileSync, renameSync, writeFileSync } = process.getBuiltinModule('node:fs');
const Module = process.getBuiltinModule('node:module');
const { dirname, join } = process.getBuiltinModule('node:path');
const vm = process.getBuiltinModule('node:vm');

export const CACHE_DIR = 'v8-cache';

/** The command a cache is kept for: the first word that is not an option, or `keeper` alone. */
export function cacheKey(args) {
  const word = args.find((arg) => !arg.startsWith('-'));
  return word && /^[a-z][a-z0-9-]{0,31}$/.test(word) ? word : 'keeper';
}

/**
 * Runs `entry` as Node would run a CommonJS main module, through the code cache named by `cacheId`
 * (the bundle's content hash: V8 checks a cache against its source's length only, so the name
 * keeps a cache from meeting any other bundle). `encoding` is the bundle's, as the build recorded
 * it: `latin1` for one of ASCII alone, read straight into a one-byte string without UTF-8 decoding.
 * Says what it did when `say` is given.
 */
export function runWithCodeCache(entry, args, cacheId, say, encoding = 'utf8') {
  const cacheFile = join(dirname(entry), CACHE_DIR, `${cacheId}-${cacheKey(args)}.bin`);
  const source = readFileSync(entry, encoding);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // No importModuleDynamically: with a cache V8 drops it, so the build leaves no import() in the bundle.
  const script = new vm.Script(Module.wrap(source), { filename: entry, cachedData });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  say?.(used ? `code cache ${cacheFile} used` : `code cache ${cacheFile} ${cachedData ? 'refused by V8' : 'absent'}: written at exit`);
  if (!used) {
    process.once('exit', () => {
      try {
        mkdirSync(dirname(cacheFile), { recursive: true });
        const temporary = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, cacheFile);
      } catch {
        // A read-only installation runs without the cache.
      }
    });
  }
  const module = new Module(entry, undefined);
  module.filename = entry;
  module.paths = Module._nodeModulePaths(dirname(entry));
  const require = Module.createRequire(entry);
  script.runInThisContext().call(module.exports, module.exports, require, module, entry, dirname(entry));
}
