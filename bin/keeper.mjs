#!/usr/bin/env node
// Runs the compiled CLI (dist/cli, made by `npm run build` and by npm ci's prepare step) when it
// was built from the sources as they are now, and otherwise the TypeScript sources through tsx, so
// an edit after a build takes effect at once (only the start is slower) and a clone without a
// build still works. The check compares the size and modification time of every file the build
// read with what the build recorded (bin/build-stamp.mjs): a few hundred stats.
//
//   KEEPER_FROM_SOURCE=1   always run the sources through tsx
//   KEEPER_DEBUG_LAUNCH=1  say on stderr which one runs, and why
// Built-in modules through process.getBuiltinModule, not imported (see bin/build-stamp.mjs).
import { checkBuild } from './build-stamp.mjs';
import { runWithCodeCache } from './code-cache.mjs';

// grpc-js names the TLS server by the address it dials, so a TLS client of 127.0.0.1 makes
// Node warn (DEP0123) on every connection. The certificate is still checked against that address;
// the warning is only noise in front of the command's own output.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const code = typeof rest[0] === 'object' && rest[0] !== null ? rest[0].code : rest[1];
  if (code === 'DEP0123') return;
  return emitWarning.call(this, warning, ...rest);
};

const { dirname, join } = process.getBuiltinModule('node:path');
const root = join(dirname(process.getBuiltinModule('node:url').fileURLToPath(import.meta.url)), '..');
const build = process.env.KEEPER_FROM_SOURCE ? { current: false, reason: 'KEEPER_FROM_SOURCE is set' } : checkBuild(root);
if (process.env.KEEPER_DEBUG_LAUNCH) {
  process.stderr.write(build.current ? `keeper: running ${build.entry}\n` : `keeper: running the sources through tsx: ${build.reason}\n`);
}

if (build.current) {
  runWithCodeCache(build.entry, process.argv.slice(2), build.cacheId, process.env.KEEPER_DEBUG_LAUNCH ? (line) => process.stderr.write(`keeper: ${line}\n`) : undefined, build.encoding);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
