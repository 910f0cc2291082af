#!/usr/bin/env node
/**
 * `npm run build` (and npm ci's prepare step): compiles the `keeper` command (src/cli/main.ts and
 * everything it imports, statically or lazily) with esbuild into dist/cli, which bin/keeper.mjs
 * runs instead of compiling the TypeScript through tsx at every start. Plain JavaScript with no
 * TypeScript tooling at run time, so `keeper --help` starts in about the time Node itself does.
 *
 * The output is one CommonJS file, dist/cli/main.cjs, which bin/keeper.mjs compiles with a V8
 * code cache (bin/code-cache.mjs); the lazily imported parts (server, audit, agent, terminal UI,
 * images) are in it but run only when imported. Packages stay in node_modules and are required
 * from there, except a few pure-JavaScript ones whose many small modules dominate the start (zod
 * alone is ~95 files); those are bundled only when no package left outside the bundle depends on
 * them, so no package is ever loaded twice (two zods would not know each other's schemas).
 * `import.meta.url` / `dirname` / `filename` in a source file are rewritten to the place that file
 * would have in a dist/ mirroring src/ (dist/server/grpc/reflection.js), so paths a module finds
 * relative to itself (proto/, dist/web, a package via createRequire) resolve exactly as they do
 * from src/.
 *
 * Last, it writes dist/cli/build-stamp.json: every source file that went in (and package.json,
 * the lockfiles, tsconfig.json and this script) with its size and modification time. bin/keeper.mjs
 * runs dist/cli only while every one of them is unchanged (bin/build-stamp.mjs); otherwise it runs
 * the sources through tsx, so an edit after a build is never silently ignored.
 *
 *   node scripts/build.mjs [--root DIR] [--out-dir DIR] [--quiet]
 *
 * --root builds another project laid out like this one (the tests build a small one);
 * --out-dir writes elsewhere than <root>/dist/cli (it must be two levels below the root, like
 * dist/cli, for the rewritten paths to hold).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { fingerprint, STAMP_FILE, STAMP_FORMAT } from '../bin/build-stamp.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
export const ENTRY = 'src/cli/main.ts';

/** Pure-JavaScript packages worth bundling (many small modules), if nothing outside the bundle uses them. */
export const BUNDLE_CANDIDATES = ['zod', 'commander', '@bufbuild/protobuf', 'fastify-type-provider-zod', '@grpc/grpc-js', 'paseto'];

/**
 * Packages outside the bundle allowed their own copy of a bundled package, so every client command
 * keeps its gRPC inside the bundle (~30 ms of start). KurrentDB's client (loaded only by a server
 * given KEEPER_EVENTSTORE_URL) dials with the grpc-js it was installed with, and the adapter hands
 * it and takes back plain values only. @grpc/reflection reads its .proto files beside its own
 * code, so it stays in node_modules; it takes only status codes and loadPackageDefinition (plain
 * objects) from its grpc-js, and is handed the server to add its service to.
 */
const OWN_COPY_ALLOWED = new Map([
  ['@kurrent/kurrentdb-client', ['@grpc/grpc-js']],
  ['@grpc/reflection', ['@grpc/grpc-js']],
]);

/** Files besides the sources whose change makes a build out of date. */
const PROJECT_INPUTS = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'tsconfig.json', 'scripts/build.mjs', 'bin/build-stamp.mjs'];

/** A package's own dependencies of every kind, as installed (hoisted) in root/node_modules. */
function dependenciesOf(root, name) {
  const path = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(path)) return [];
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  return Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies });
}

/** The package a bundled file belongs to (the innermost node_modules/<name>), undefined for a source file. */
function packageOfPath(path) {
  const parts = path.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  return parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
}

/** `zod/v4/core` -> `zod`, `@grpc/grpc-js/build/x` -> `@grpc/grpc-js`; undefined for relative and node: paths. */
function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * `import('package')` in a source file, as `require('package')` in the bundle. The bundle is a
 * script compiled with a code cache, where Node 20 has no dynamic import (with a cache, V8 loses
 * the callback that `vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER` names); `require` loads
 * CommonJS and ES-module-only packages alike on Node 20.19+. The code reads named exports only
 * (`(await import('x')).Name`), which both give alike. Type positions (`import('x').Type`,
 * `typeof import('x')`) are left alone.
 */
export function withPackagesRequired(text) {
  return text.replace(/(?<![\w.$]|typeof\s)import\((['"])([^'"./][^'"]*)\1\)(?![.<\w])/g, (_, quote, name) => `Promise.resolve().then(() => require(${quote}${name}${quote}))`);
}

/** Rewrites import.meta.* of a source file to where that file would sit in a dist/ mirroring src/. */
function importMetaPlugin(root, outDir) {
  return {
    name: 'keeper-import-meta',
    setup(buildApi) {
      buildApi.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const text = withPackagesRequired(await readFile(args.path, 'utf8'));
        if (!text.includes('import.meta.')) return { contents: text, loader: 'ts' };
        const inSrc = relative(join(root, 'src'), args.path);
        if (inSrc.startsWith('..')) return { contents: text, loader: 'ts' };
        // The bundle lies directly in outDir (dist/cli), whose directory is the bundle's __dirname.
        const mirrored = relative(outDir, join(dirname(outDir), inSrc.replace(/\.[cm]?ts$/, '.js'))).split(sep).join('/');
        const mirroredDir = dirname(mirrored);
        const contents = text
          .replace(/\bimport\.meta\.url\b/g, `require('node:url').pathToFileURL(__dirname + ${JSON.stringify(`/${mirrored}`)}).href`)
          .replace(/\bimport\.meta\.filename\b/g, `require('node:path').resolve(__dirname + ${JSON.stringify(`/${mirrored}`)})`)
          .replace(/\bimport\.meta\.dirname\b/g, `require('node:path').resolve(__dirname + ${JSON.stringify(`/${mirroredDir}`)})`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * zod's `locales` (its error messages in some 40 languages, half of zod's code) down to English,
 * the one zod itself configures and Keeper uses: `z.locales.en` stays, the others are not bundled.
 */
function zodEnglishOnlyPlugin() {
  return {
    name: 'keeper-zod-english-only',
    setup(buildApi) {
      buildApi.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
        if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
        return { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'keeper-zod-locales' };
      });
      buildApi.onLoad({ filter: /.*/, namespace: 'keeper-zod-locales' }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(args.path)};\n`,
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
}

/**
 * Whether a package offers Node only an ES module (no `require` condition, no CommonJS main):
 * `require` of it (Node 20.19+) gives its module namespace, whose `default` is its default export.
 */
export function isEsmOnly(root, name) {
  const path = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(path)) return false;
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  const esmFile = (file) => file.endsWith('.mjs') || (manifest.type === 'module' && !file.endsWith('.cjs'));
  let entry = manifest.exports;
  if (entry && typeof entry === 'object' && !Array.isArray(entry) && '.' in entry) entry = entry['.'];
  if (typeof entry === 'string') return esmFile(entry);
  if (entry && typeof entry === 'object') {
    // The conditions Node tries for require, types aside: any CommonJS target makes it requirable.
    const targets = [];
    const walk = (value, key) => {
      if (key === 'types') return;
      if (typeof value === 'string') targets.push([key, value]);
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
    };
    walk(entry, '.');
    if (targets.some(([key, file]) => key === 'require' || !esmFile(file))) return false;
    return targets.length > 0;
  }
  return esmFile(manifest.main ?? 'index.js');
}

/**
 * A default import of an ES-module-only package, right in a CommonJS bundle. esbuild gives a source
 * file of a `"type": "module"` project Node's rule for a default import (`default` is the whole
 * `module.exports`), which is right for a CommonJS package but, for an ES-module-only one that is
 * required, is its namespace: `import stringWidth from 'string-width'` would be an object and the
 * terminal UI blank. Such a package is reached through a shim outside that rule, which takes
 * `default` from the namespace (it carries `__esModule`).
 */
function esmOnlyPackagesPlugin(root, external) {
  const esmOnly = new Map();
  const check = (name) => {
    if (!esmOnly.has(name)) esmOnly.set(name, isEsmOnly(root, name));
    return esmOnly.get(name);
  };
  return {
    name: 'keeper-esm-only-packages',
    setup(buildApi) {
      buildApi.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.namespace === 'keeper-esm-only' || args.importer.split(/[\\/]/).includes('node_modules')) return undefined;
        const name = packageName(args.path);
        if (!name || !external.has(name) || !check(name)) return undefined;
        return { path: args.path, namespace: 'keeper-esm-only' };
      });
      buildApi.onLoad({ filter: /.*/, namespace: 'keeper-esm-only' }, (args) => ({
        contents: `export * from ${JSON.stringify(args.path)};\nexport { default } from ${JSON.stringify(args.path)};\n`,
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * Built-in modules a bundled package requires as it loads but uses only in code most commands never
 * run, loaded at first use instead: commander's child_process (for executable subcommands, which
 * Keeper has none of; it brings dgram and more), grpc-js's zlib (for compressed messages, which
 * Keeper's client and server do not send) and dns (for a server named by a host name; an address
 * of IP literals goes to grpc-js's ipv4:/ipv6: resolver, see src/client/server-target.ts). Keyed by package, so a source file's own import of the
 * module is left alone.
 */
export const LAZY_BUILTINS = new Map([
  ['commander', ['child_process']],
  ['@grpc/grpc-js', ['zlib', 'dns']],
]);

function lazyBuiltinsPlugin() {
  return {
    name: 'keeper-lazy-builtins',
    setup(buildApi) {
      buildApi.onResolve({ filter: /^(node:)?[a-z_]+$/ }, (args) => {
        const name = args.path.replace(/^node:/, '');
        const owner = packageOfPath(args.importer);
        if (!owner || !LAZY_BUILTINS.get(owner)?.includes(name)) return undefined;
        return { path: name, namespace: 'keeper-lazy-builtin' };
      });
      buildApi.onLoad({ filter: /.*/, namespace: 'keeper-lazy-builtin' }, (args) => ({
        // Every property read (zlib.createGunzip, child_process.spawn) loads the module first.
        contents: `let loaded;\nmodule.exports = new Proxy({}, { get: (_, key) => (loaded ??= require(${JSON.stringify(`node:${args.path}`)}))[key] });\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * grpc-js's `net` with a quicker isIPv6. grpc-js asks isIPv6 of every address it dials or names
 * (8 times in a `keeper ls` of 127.0.0.1), and Node's answers with a large regular expression that
 * fails slowly on an IPv4 address and is compiled again to machine code at its second use: ~4 ms
 * of every client command. An IPv6 address always holds a colon, so a string without one is
 * answered at once; any other is Node's to judge, as before.
 */
export const GRPC_NET_SHIM = [
  "const net = require('node:net');",
  "const isIPv6 = (value) => (typeof value !== 'string' || value.includes(':')) && net.isIPv6(value);",
  "module.exports = new Proxy(net, { get: (target, key) => (key === 'isIPv6' ? isIPv6 : target[key]) });",
].join('\n');

function grpcNetPlugin() {
  return {
    name: 'keeper-grpc-net',
    setup(buildApi) {
      buildApi.onResolve({ filter: /^(node:)?net$/ }, (args) => {
        if (packageOfPath(args.importer) !== '@grpc/grpc-js') return undefined;
        return { path: 'net', namespace: 'keeper-grpc-net' };
      });
      buildApi.onLoad({ filter: /.*/, namespace: 'keeper-grpc-net' }, () => ({ contents: GRPC_NET_SHIM, loader: 'js' }));
    },
  };
}

/**
 * Builds root's CLI into outDir. Returns what went in and what was bundled.
 *
 * The stamp is removed first and written last, so a build that fails or is interrupted is never
 * taken as current. A source changed while esbuild was reading (modified after the build began)
 * makes it build again rather than stamp a build that may hold its older text. Each file is written
 * beside its place and renamed there; what the previous build wrote is kept until the next one
 * (older files and the code caches, which belong to the bundle they were made from, are removed).
 */
export async function buildCli({ root = ROOT, outDir = join(root, 'dist', 'cli'), log = () => {} } = {}) {
  root = resolve(root);
  outDir = resolve(outDir);
  const started = performance.now();
  const stampPath = join(outDir, STAMP_FILE);
  const previous = await readFile(stampPath, 'utf8').then(
    (text) => JSON.parse(text),
    () => undefined,
  );
  await rm(stampPath, { force: true });
  await mkdir(outDir, { recursive: true });

  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const declared = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.optionalDependencies });
  const candidates = BUNDLE_CANDIDATES.filter((name) => declared.includes(name));
  // Left in node_modules: every declared package but the candidates, and whatever must be shared.
  const external = new Set(declared.filter((name) => !candidates.includes(name)));

  const run = () =>
    build({
      absWorkingDir: root,
      entryPoints: { main: join(root, ENTRY) },
      outdir: outDir,
      write: false,
      bundle: true,
      // One CommonJS file, not ES module chunks: bin/keeper.mjs compiles it with a V8 code cache
      // (bin/code-cache.mjs), which Node 20 offers for scripts only. What a command does not use
      // stays in the file uncompiled: modules imported lazily run only when first imported.
      format: 'cjs',
      outExtension: { '.js': '.cjs' },
      platform: 'node',
      target: 'node20',
      // Less to read and parse at every start; identifiers stay as written.
      minifyWhitespace: true,
      minifyIdentifiers: true,
      minifySyntax: true,
      legalComments: 'none',
      // Class and function names as written: logs and errors use constructor.name.
      keepNames: true,
      sourcemap: true,
      sourcesContent: false,
      metafile: true,
      logLevel: 'warning',
      external: [...external].flatMap((name) => [name, `${name}/*`]),
      plugins: [importMetaPlugin(root, outDir), zodEnglishOnlyPlugin(), lazyBuiltinsPlugin(), grpcNetPlugin(), esmOnlyPackagesPlugin(root, external)],
    });

  let result;
  let bundled;
  let sources;
  let inputs;
  for (let attempt = 1; ; attempt++) {
    const began = Date.now();
    result = await run();
    // The packages inside the bundle (candidates and what they pulled in), and those it imports from
    // node_modules with everything they depend on: a package in both would be loaded twice.
    bundled = new Set(Object.keys(result.metafile.inputs).map(packageOfPath).filter(Boolean));
    const imported = new Set();
    for (const output of Object.values(result.metafile.outputs)) {
      for (const entry of output.imports) if (entry.external) imported.add(packageName(entry.path));
    }
    imported.delete(undefined);
    const reached = new Set();
    const queue = [...imported];
    while (queue.length > 0) {
      const name = queue.pop();
      if (reached.has(name)) continue;
      reached.add(name);
      const ownCopies = OWN_COPY_ALLOWED.get(name) ?? [];
      queue.push(...dependenciesOf(root, name).filter((dependency) => !ownCopies.includes(dependency)));
    }
    const shared = [...bundled].filter((name) => reached.has(name));
    if (shared.length > 0) {
      log(`left in node_modules, shared with a package outside the bundle: ${shared.join(', ')}`);
      for (const name of shared) {
        // Imported by name from dist/cli, it must be the copy the bundle would have used: the hoisted one.
        const hoisted = join(root, 'node_modules', name);
        const at = existsSync(hoisted) ? realpathSync(hoisted) + sep : undefined;
        const nested = Object.keys(result.metafile.inputs).find((path) => packageOfPath(path) === name && (!at || !resolve(root, path).startsWith(at)));
        if (nested) throw new Error(`${name} is shared with packages outside the bundle but installed in more than one place (${nested}); add it to package.json`);
        external.add(name);
      }
      continue;
    }

    sources = Object.keys(result.metafile.inputs)
      // Files of the project, not packages nor the plugins' made-up modules (namespace:path).
      .filter((path) => !path.split(/[\\/]/).includes('node_modules') && !/^[\w-]+:/.test(path))
      .map((path) => relative(root, resolve(root, path)).split(sep).join('/'))
      .sort();
    inputs = fingerprint(root, [...sources, ...PROJECT_INPUTS]);
    // File times are coarse (a few ms) and may lag the clock: a margin, then another round.
    const moving = inputs.filter(([, , mtime]) => mtime !== undefined && mtime >= began - 100).map(([path]) => path);
    if (moving.length === 0) break;
    if (attempt === 3) throw new Error(`${moving.join(', ')} kept changing during the build`);
    log(`${moving.join(', ')} changed as the build began: building again`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  bundled = [...bundled].sort();
  const dynamicImports = result.outputFiles
    .filter((file) => file.path.endsWith('.cjs'))
    .flatMap((file) => [...file.text.matchAll(/\bimport\(\s*["'`]([^"'`]+)/g)].map((match) => match[1]));
  if (dynamicImports.length > 0) throw new Error(`the bundle imports ${dynamicImports.join(', ')} dynamically, which a script run with a code cache cannot do: import them statically or by a string literal from src/`);

  const outputs = result.outputFiles.map((file) => relative(outDir, file.path).split(sep).join('/')).sort();
  const temporary = (path) => `${path}.${process.pid}.tmp`;
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(temporary(file.path), file.contents);
    await rename(temporary(file.path), file.path);
  }
  const keep = new Set([...outputs, ...(Array.isArray(previous?.outputs) ? previous.outputs : []), STAMP_FILE]);
  for (const name of await readdir(outDir)) {
    if (!keep.has(name)) await rm(join(outDir, name), { recursive: true, force: true });
  }

  // Names the code caches: V8 checks a cache against its source's length only, so a cache must
  // never be found by a bundle other than the one it was made from.
  const bundle = result.outputFiles.find((file) => file.path === join(outDir, 'main.cjs'));
  if (!bundle) throw new Error('esbuild wrote no main.cjs');
  const cacheId = createHash('sha256').update(bundle.contents).digest('hex').slice(0, 16);
  // A bundle of ASCII alone (esbuild escapes other characters, except some in regular expressions)
  // is read as latin1: no UTF-8 decoding at every start, and always a one-byte string for V8.
  const encoding = /^[\x00-\x7f]*$/.test(bundle.text) ? 'latin1' : 'utf8';
  if (encoding === 'utf8') log('main.cjs holds characters beyond ASCII (a regular expression?): it is read as UTF-8, a little slower');
  const stamp = { format: STAMP_FORMAT, entry: 'main.cjs', cacheId, encoding, bundled, outputs, inputs };
  // One input a line, so two stamps compare with diff.
  const lines = inputs.map((input) => `  ${JSON.stringify(input)}`).join(',\n');
  await writeFile(temporary(stampPath), `${JSON.stringify({ ...stamp, inputs: [] }).replace('"inputs":[]', `"inputs":[\n${lines}\n]`)}\n`);
  await rename(temporary(stampPath), stampPath);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`built ${relative(root, outDir) || outDir} from ${sources.length} source files in ${seconds} s (bundled: ${bundled.join(', ') || 'none'})`);
  return { sources, bundled, outDir };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const root = option('--root') ?? ROOT;
  const outDir = option('--out-dir');
  const quiet = args.includes('--quiet');
  buildCli({ root, ...(outDir ? { outDir } : {}), log: (line) => quiet || process.stderr.write(`keeper build: ${line}\n`) }).catch((error) => {
    // Nothing half-built may look current: the stamp was removed before the build began.
    rmSync(join(resolve(outDir ?? join(root, 'dist', 'cli')), STAMP_FILE), { force: true });
    process.stderr.write(`keeper build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
