import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { KEEPER, keeper } from '../support/cli.js';
import { OwnNatsServer } from '../imaging/support/nats.js';

interface LogLine {
  level: number;
  msg: string;
  bytes: number;
  text: string;
}

const WARN = 40;

(existsSync('/usr/sbin/nats-server') ? describe : describe.skip)('the server log while NATS is down (keeper up on a NATS of its own)', function () {
  this.timeout(180_000);
  let nats: OwnNatsServer;
  let dir: string;
  let server: ChildProcess | undefined;
  const lines: LogLine[] = [];

  before(async () => {
    nats = await OwnNatsServer.start();
    dir = await mkdtemp(join(tmpdir(), 'keeper-outage-'));
  });
  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    await nats.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('says once that the queue went away, once that it is back, not a line per retry, and no stacks', async () => {
    server = spawn(process.execPath, [KEEPER, 'up', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--nats-url', nats.url], {
      env: { PATH: process.env.PATH ?? '', KEEPER_LOG_LEVEL: 'warn', KEEPER_AGENT_LISTEN: '127.0.0.1:0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    server.stderr!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop()!;
      for (const text of complete.filter(Boolean)) {
        const parsed = JSON.parse(text) as { level: number; msg: string };
        lines.push({ level: parsed.level, msg: parsed.msg, bytes: Buffer.byteLength(text), text });
      }
    });
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      server!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /gRPC server\s+(\S+)/.exec(out);
        if (found) resolve(found[1]!);
      });
      server!.once('exit', (code) => reject(new Error(`keeper up exited with ${code}: ${lines.map((l) => l.text).join('\n')}`)));
    });
    const env = { KEEPER_SERVER: address, KEEPER_HOME: join(dir, 'home') };
    expect((await keeper(['register', '--login', 'nora'], env, 'correct horse battery\n')).code).to.equal(0);
    expect((await keeper(['add', 'Receipts', '--kind', 'note'], env)).code).to.equal(0);
    const picture = join(dir, 'receipt.jpg');
    await writeFile(picture, await sharp({ create: { width: 300, height: 200, channels: 3, background: '#8a5' } }).withExif({ IFD0: { Make: 'KeeperCam' } }).jpeg().toBuffer());

    // NATS goes away; an upload is accepted and waits for it, while the relay and the worker retry.
    const before = lines.length;
    await nats.pause();
    const added = await keeper(['image', 'add', 'Receipts', picture], env);
    expect(added.code, added.stderr).to.equal(0);
    await sleep(6_000);
    const whileDown = lines.slice(before).filter((line) => line.level >= WARN);

    await nats.resume();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const images = JSON.parse((await keeper(['image', 'ls', '--json'], env)).stdout) as Array<{ status: string }>;
      if (images[0]?.status === 'ready') break;
      if (Date.now() > deadline) throw new Error(`the image did not become ready after NATS came back: ${JSON.stringify(images)}`);
      await sleep(500);
    }
    await sleep(1_500);
    const afterBack = lines.slice(before + whileDown.length).filter((line) => line.level >= WARN);
    const report = () => lines.slice(before).map((l) => l.text).join('\n');

    expect(whileDown.length, `warnings while NATS was down:\n${report()}`).to.be.within(1, 2);
    expect(whileDown.some((line) => /unavailable/.test(line.msg)), report()).to.equal(true);
    expect(afterBack.filter((line) => /is back after/.test(line.msg)), report()).to.have.length.within(1, 2);
    for (const line of [...whileDown, ...afterBack]) {
      expect(line.bytes, line.text).to.be.below(600);
      expect(line.text, 'no stack in an outage line').to.not.match(/\bat .+:\d+:\d+/);
    }
  });
});
