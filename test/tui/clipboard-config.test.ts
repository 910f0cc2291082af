import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../src/config/env.js';
import { Clipboard, findClipboardTool } from '../../src/client/tui/clipboard.js';
import { loadTuiConfig } from '../../src/client/tui/config.js';

/** The TUI's own settings (auto-lock) and its clipboard, with a stand-in clipboard tool. */

describe('TUI settings and clipboard', () => {
  describe('auto-lock setting', () => {
    it('defaults to 15 minutes; the flag wins over KEEPER_AUTO_LOCK_SECONDS; 0 turns it off', () => {
      expect(loadTuiConfig({}, {})).to.deep.equal({ autoLockMs: 900_000, syncEveryMs: 15_000 });
      expect(loadTuiConfig({}, { KEEPER_AUTO_LOCK_SECONDS: '60' })).to.deep.include({ autoLockMs: 60_000 });
      expect(loadTuiConfig({ autoLock: '5' }, { KEEPER_AUTO_LOCK_SECONDS: '60' })).to.deep.include({ autoLockMs: 5_000 });
      expect(loadTuiConfig({ autoLock: '0' }, {})).to.deep.include({ autoLockMs: 0 });
      expect(loadTuiConfig({ syncEvery: '60' }, { KEEPER_SYNC_SECONDS: '5' })).to.deep.include({ syncEveryMs: 60_000 });
    });

    it('names the setting and what it expects when the value is bad', () => {
      expect(() => loadTuiConfig({}, { KEEPER_AUTO_LOCK_SECONDS: '15m' })).to.throw(
        ConfigError,
        'invalid configuration: --auto-lock / KEEPER_AUTO_LOCK_SECONDS (got "15m"): must be a whole number of seconds (0 turns auto-lock off)',
      );
      expect(() => loadTuiConfig({ autoLock: '-1' }, {})).to.throw(ConfigError, /must be a whole number of seconds/);
      expect(() => loadTuiConfig({ autoLock: '99999999' }, {})).to.throw(ConfigError, /must be at most 604800/);
      expect(() => loadTuiConfig({}, { KEEPER_SYNC_SECONDS: '0' })).to.throw(ConfigError, /--sync-every \/ KEEPER_SYNC_SECONDS \(got "0"\): must be between 1 and 86400/);
    });
  });

  describe('clipboard', () => {
    let dir: string;
    let log: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'keeper-clipboard-'));
      log = join(dir, 'log');
      // A stand-in for xclip: records its arguments and what it was given on stdin.
      await writeFile(join(dir, 'xclip'), `#!/bin/sh\n{ printf '%s|' "$*"; cat; printf '\\n'; } >> "${log}"\n`, { mode: 0o755 });
      await writeFile(join(dir, 'xsel'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('finds a tool only where it can work: on PATH and with its display', () => {
      expect(findClipboardTool({ PATH: dir }, 'linux')).to.equal(undefined);
      expect(findClipboardTool({ PATH: dir, DISPLAY: ':0' }, 'linux')).to.deep.include({ command: join(dir, 'xclip'), copy: ['-selection', 'clipboard'] });
      expect(findClipboardTool({ PATH: '/nonexistent', DISPLAY: ':0', WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).to.equal(undefined);
    });

    it('copies a value and empties the clipboard again after the delay', async () => {
      const clipboard = new Clipboard(findClipboardTool({ PATH: dir, DISPLAY: ':0' }, 'linux'), 100);
      await clipboard.copy('hunter2');
      expect(await readFile(log, 'utf8')).to.equal('-selection clipboard|hunter2\n');
      expect(clipboard.armed).to.equal(true);
      const deadline = Date.now() + 5000;
      while ((await readFile(log, 'utf8')).split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await readFile(log, 'utf8')).to.equal('-selection clipboard|hunter2\n-selection clipboard|\n');
      expect(clipboard.armed).to.equal(false);
    });

    it('says in a sentence when there is no tool, or when the tool fails', async () => {
      await expectRejection(new Clipboard(undefined).copy('x'), 'no clipboard tool was found (wl-copy, xclip, xsel or pbcopy) and there is no terminal to copy through');
      const failing = new Clipboard({ command: join(dir, 'xsel'), copy: [], clear: [] });
      await expectRejection(failing.copy('x'), `the clipboard tool ${join(dir, 'xsel')} failed (exit code 3)`);
    });
  });
});

async function expectRejection(promise: Promise<unknown>, message: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.equal(message);
    return;
  }
  expect.fail(`expected a rejection with "${message}"`);
}
