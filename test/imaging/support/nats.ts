import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Set by CI (.ci/run); the NATS suites are skipped without it, like the PostgreSQL ones without KEEPER_DATABASE_URL. */
export const natsUrl = process.env.KEEPER_NATS_URL || undefined;

if (!natsUrl && process.env.CI) {
  throw new Error('CI must set KEEPER_NATS_URL so the NATS JetStream suites run');
}

const NATS_SERVER = '/usr/sbin/nats-server';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A nats-server of the test's own (JetStream on, storage in a temp dir) that the test may stop
 * and start again on the same port and storage; the shared server is never touched.
 */
export class OwnNatsServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(): Promise<OwnNatsServer> {
    const server = new OwnNatsServer(await freePort(), await mkdtemp(join(tmpdir(), 'keeper-nats-')));
    await server.resume();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with status ${child.exitCode} before listening on ${this.port}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${this.port} within 10 s`);
      await sleep(50);
    }
  }

  /** Stops this server (and only this one: the child process the test started). */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  /** Empties the storage directory (stop the server first): it comes back knowing no stream. */
  async wipeStorage(): Promise<void> {
    await rm(this.storeDir, { recursive: true, force: true });
    await mkdir(this.storeDir);
  }

  async dispose(): Promise<void> {
    await this.pause();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
