/**
 * `npm run test:docker`: builds Keeper's image and runs docker-compose.yml for real on this
 * machine, then uses it from the host as a user would. Called by .ci/run after `npm test`.
 *
 * The machine reaches no image registry, so the public images the Dockerfile and the compose
 * file name are built locally first and tagged with those names (docker/stand-ins/build.sh), and
 * KurrentDB, which cannot be had here, is left out: the event log lives in PostgreSQL
 * (eventlog-in-postgres.ts), which the output says. dockerd is the test's own, started with its
 * data under a temporary directory and stopped by its pid at the end, also when a step fails;
 * the host's networking (forwarding, iptables, bridges) is put back as it was.
 *
 * Needs root, dockerd, docker, docker-compose (v1 is enough), debootstrap, openssl and python3.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { syntheticPhoto } from '../../src/imaging/synthetic-photo.js';
import { makeCertificates } from '../../test/support/certificates.js';
import { startDaemon, stopDaemon, type Daemon } from './daemon.js';
import { composeWithLogInPostgres } from './eventlog-in-postgres.js';
import { restoreHostNetwork, snapshotHostNetwork } from './host-network.js';
import { mustRun, runCommand } from './run.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEEPER_CLI = join(ROOT, 'bin', 'keeper.mjs');
const PROJECT = 'keeper-docker-test';
/** Every service the stack runs without the bot (which needs a Telegram token) and KurrentDB. */
const SERVICES = ['postgres', 'nats', 'server-1', 'server-2', 'server-3', 'projector', 'imaging-1', 'imaging-2', 'agent'];
const PASSWORD = 'correct horse battery staple';

const began = performance.now();
const timings: Array<{ name: string; seconds: number }> = [];
const seconds = (from: number) => (performance.now() - from) / 1000;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  say(`\n== ${name}`);
  const from = performance.now();
  const result = await body();
  const took = seconds(from);
  timings.push({ name, seconds: took });
  say(`   ok (${took.toFixed(1)} s)`);
  return result;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last: ${(last as Error).message})` : ''}`);
    await sleep(500);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function preflight(): void {
  check(process.getuid?.() === 0, 'npm run test:docker needs root: it starts its own dockerd and changes host networking (and puts it back)');
  const found = (tool: string) => Boolean(process.env.PATH?.split(':').some((dir) => existsSync(join(dir, tool))));
  const missing = ['dockerd', 'docker', 'docker-compose', 'openssl', 'python3', 'iptables-save', 'ip'].filter((tool) => !found(tool));
  if (!found('mmdebstrap') && !found('debootstrap')) missing.push('mmdebstrap (or debootstrap)');
  check(missing.length === 0, `missing ${missing.join(', ')}: apt-get install docker.io docker-compose mmdebstrap nftables openssl python3 (as .ci/run does)`);
}

// ---- the steps ----------------------------------------------------------------------------

interface Stack {
  env: NodeJS.ProcessEnv;
  compose: (args: string[], timeoutMs?: number) => Promise<string>;
  ports: { servers: [number, number, number]; agent: number };
  ca: string;
  work: string;
}

async function buildImages(env: NodeJS.ProcessEnv, work: string): Promise<void> {
  const standIns = join(ROOT, 'docker', 'stand-ins', 'build.sh');
  const scratch = join(work, 'stand-ins');
  await step('stand-in base image debian:bookworm-slim (mmdebstrap or debootstrap)', async () => {
    say((await mustRun(standIns, ['debian', scratch], { env, timeoutMs: 420_000 })).trimEnd());
  });
  await step("Keeper's image (Dockerfile) on the stand-in node:20-bookworm-slim; the postgres and nats stand-ins beside it", async () => {
    const keeper = (async () => {
      say((await mustRun(standIns, ['node', scratch], { env, timeoutMs: 300_000 })).trimEnd());
      const from = performance.now();
      await mustRun('docker', ['build', '-t', 'keeper:local', ROOT], { env, timeoutMs: 600_000 });
      say(`     keeper:local              ${Math.round(seconds(from)).toString().padStart(3)} s  docker build (npm ci, build, prune; then tini and the compiled code)`);
    })();
    const services = mustRun(standIns, ['services', scratch], { env, timeoutMs: 420_000 }).then((out) => say(out.trimEnd()));
    await Promise.all([keeper, services]);
    const bytes = async (name: string) => Number((await mustRun('docker', ['image', 'inspect', name, '--format', '{{.Size}}'], { env })).trim());
    const [image, base] = [await bytes('keeper:local'), await bytes('node:20-bookworm-slim')];
    const user = (await mustRun('docker', ['image', 'inspect', 'keeper:local', '--format', '{{.Config.User}}'], { env })).trim();
    check(user === 'node', `the image runs as "${user}", not the unprivileged user node`);
    say(`   image keeper:local: ${(image / 1e6).toFixed(0)} MB, of which ${((image - base) / 1e6).toFixed(0)} MB over its base node:20-bookworm-slim (here a stand-in of ${(base / 1e6).toFixed(0)} MB); runs as ${user}`);
  });
}

async function startStack(env: NodeJS.ProcessEnv, work: string): Promise<Stack> {
  return step('compose up (docker-compose.yml, the event log in PostgreSQL: KurrentDB cannot run here)', async () => {
    const certs = join(work, 'certs');
    mkdirSync(certs);
    const made = await makeCertificates(certs);
    // Mounted as a secret into the agent, which runs as uid 1000 (node).
    chownSync(made.key, 1000, 1000);
    chmodSync(made.key, 0o600);
    const tokenKey = (await mustRun('docker', ['run', '--rm', 'keeper:local', 'node', 'dist/cli/main.cjs', 'keygen'], { env })).trim();
    check(/^k4\.secret\./.test(tokenKey), 'keeper keygen in the image printed no k4.secret key');
    const ports = { servers: [await freePort(), await freePort(), await freePort()] as [number, number, number], agent: await freePort() };
    // As .env.example: what a real .env holds, with this run's values.
    const envFile = join(work, 'test.env');
    writeFileSync(
      envFile,
      [
        `KEEPER_TOKEN_KEY=${tokenKey}`,
        `POSTGRES_PASSWORD=${randomBytes(18).toString('hex')}`,
        `KEEPER_AGENT_TLS_CERT_FILE=${made.cert}`,
        `KEEPER_AGENT_TLS_KEY_FILE=${made.key}`,
        `KEEPER_PORT_1=${ports.servers[0]}`,
        `KEEPER_PORT_2=${ports.servers[1]}`,
        `KEEPER_PORT_3=${ports.servers[2]}`,
        `KEEPER_AGENT_PORT=${ports.agent}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const { config, changes } = composeWithLogInPostgres(join(ROOT, 'docker-compose.yml'), ['--env-file', envFile], env);
    say('   KurrentDB is NOT run: no image of it can be had on this machine and no stand-in is passed off as it.');
    say('   The stack runs docker-compose.yml with the event log in PostgreSQL instead:');
    for (const change of changes) say(`     - ${change}`);
    const composeFile = join(work, 'docker-compose.eventlog-in-postgres.json');
    writeFileSync(composeFile, JSON.stringify(config, null, 2));
    const compose = (args: string[], timeoutMs = 300_000) => mustRun('docker-compose', ['-p', PROJECT, '-f', composeFile, ...args], { env, timeoutMs });
    // Compose v1 starts each service once what it depends_on is healthy (v1 has no --wait).
    await compose(['up', '-d']);
    return { env, compose, ports, ca: made.ca, work };
  });
}

interface ContainerState {
  name: string;
  service: string;
  health: string;
  status: string;
}

async function containers(stack: Stack): Promise<ContainerState[]> {
  const ids = (await mustRun('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`], { env: stack.env })).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const lines = await mustRun(
    'docker',
    ['inspect', '--format', '{{.Name}}|{{index .Config.Labels "com.docker.compose.service"}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|{{.State.Status}}', ...ids],
    { env: stack.env },
  );
  return lines
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, service, health, status] = line.split('|');
      return { name: name!.replace(/^\//, ''), service: service!, health: health!, status: status! };
    });
}

async function waitHealthy(stack: Stack, label: string): Promise<void> {
  await step(label, async () => {
    const from = performance.now();
    const seen = new Map<string, number>();
    await until(
      'every service healthy',
      async () => {
        const states = await containers(stack);
        for (const state of states) if (state.health === 'healthy' && !seen.has(state.service)) seen.set(state.service, seconds(from));
        const unhealthy = states.find((state) => state.health === 'unhealthy' || state.status === 'exited');
        if (unhealthy) throw new Error(`${unhealthy.service} is ${unhealthy.health === 'unhealthy' ? 'unhealthy' : 'exited'}`);
        const healthy = new Set(states.filter((state) => state.health === 'healthy').map((state) => state.service));
        return SERVICES.every((service) => healthy.has(service)) ? states : undefined;
      },
      240_000,
    );
    say(`   healthy: ${SERVICES.map((service) => `${service} ${seen.has(service) ? `+${seen.get(service)!.toFixed(0)}s` : '(at once)'}`).join(', ')}`);
  });
}

/** The real `keeper` command on the host, against a published port. */
async function keeper(args: string[], home: string, server: string, input = ''): Promise<string> {
  const result = await runCommand(process.execPath, [KEEPER_CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', KEEPER_HOME: home, KEEPER_SERVER: server },
    input,
    timeoutMs: 60_000,
  });
  if (result.code !== 0) throw new Error(`keeper ${args.join(' ')} (server ${server}) exited with ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

function https(stack: Stack, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port: stack.ports.agent,
        path,
        method,
        ca: readFileSync(stack.ca),
        servername: 'localhost',
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), text }));
      },
    );
    request.on('error', reject);
    request.setTimeout(20_000, () => request.destroy(new Error(`${method} ${path}: no answer within 20 s`)));
    request.end(payload);
  });
}

async function agentLogsIn(stack: Stack): Promise<string[]> {
  const page = await https(stack, 'GET', '/');
  check(page.status === 200 && page.type.startsWith('text/html') && /<script[^>]+src=/.test(page.text), `the agent's page answered ${page.status} ${page.type}`);
  const spec = await https(stack, 'GET', '/v1/openapi.json');
  check(spec.status === 200 && JSON.parse(spec.text).openapi?.startsWith('3.1'), `/v1/openapi.json answered ${spec.status}`);
  const session = await https(stack, 'POST', '/v1/sessions', { login: 'alice', password: PASSWORD });
  check(session.status === 201, `POST /v1/sessions answered ${session.status}: ${session.text}`);
  const token = JSON.parse(session.text).token as string;
  const records = await https(stack, 'GET', '/v1/records', undefined, token);
  check(records.status === 200, `GET /v1/records answered ${records.status}: ${records.text}`);
  return (JSON.parse(records.text).records as Array<{ name: string }>).map((record) => record.name).sort();
}

/** The host pid of the Node process a container runs (under tini). */
async function nodePidOf(stack: Stack, service: string): Promise<number> {
  const state = (await containers(stack)).find((entry) => entry.service === service);
  check(state, `no container for ${service}`);
  const tini = Number((await mustRun('docker', ['inspect', '--format', '{{.State.Pid}}', state.name], { env: stack.env })).trim());
  const children = readFileSync(`/proc/${tini}/task/${tini}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const node = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('node\0'));
  check(node, `no node process under ${service}'s tini (pid ${tini})`);
  return node;
}

async function exercise(stack: Stack): Promise<{ imageId: string }> {
  const [p1, p2, p3] = stack.ports.servers.map((port) => `127.0.0.1:${port}`) as [string, string, string];
  const home = join(stack.work, 'home');
  mkdirSync(home);

  await step('register a user and add records with the CLI on the host', async () => {
    await keeper(['register', '--login', 'alice'], home, p1, `${PASSWORD}\n`);
    await keeper(['add', 'Mail', '--kind', 'login', '--field', 'user=alice@example.org', '--field', 'url=https://mail.example.org'], home, p1);
    await keeper(['add', 'Bank', '--kind', 'note', '--field', 'branch=Main Street'], home, p1);
    const listed = await keeper(['ls'], home, p1);
    check(/Mail/.test(listed) && /Bank/.test(listed), `keeper ls shows:\n${listed}`);
    say('   alice registered; Mail and Bank added and listed through server-1');
  });

  const imageId = await step('upload an image; an imaging worker container makes its cover', async () => {
    const photo = join(stack.work, 'scan.jpg');
    writeFileSync(photo, await syntheticPhoto({ width: 1600, height: 1200, seed: 7 }));
    const attached = await keeper(['image', 'add', 'Mail', photo], home, p1);
    const id = /attached image ([0-9a-f-]{36})/.exec(attached)?.[1];
    check(id, `keeper image add said: ${attached}`);
    const from = performance.now();
    await until(
      'the cover',
      async () => {
        const images = JSON.parse(await keeper(['image', 'ls', 'Mail', '--json'], home, p1)) as Array<{ id: string; status: string; failure?: string }>;
        const image = images.find((entry) => entry.id === id);
        if (image?.status === 'failed') throw new Error(`the worker failed it: ${image.failure}`);
        return image?.status === 'ready' ? image : undefined;
      },
      90_000,
    );
    const out = join(stack.work, 'cover');
    mkdirSync(out);
    const coverPath = (await keeper(['image', 'get', id, '--rendition', 'cover', '--out', `${out}/`], home, p1)).trim();
    const cover = await sharp(readFileSync(coverPath)).metadata();
    check(cover.width === 120 && cover.height === 120, `the cover is ${cover.width}x${cover.height}, not 120x120`);
    say(`   cover ready ${seconds(from).toFixed(1)} s after the upload, 120x120, downloaded from the shared image volume`);
    return id;
  });

  await step("the agent's web page and API, on the host's loopback over TLS", async () => {
    const names = await agentLogsIn(stack);
    check(names.join(',') === 'Bank,Mail', `the agent lists ${names.join(', ')}`);
    say(`   GET / 200 (the page), /v1/openapi.json 200, POST /v1/sessions 201, GET /v1/records: ${names.join(', ')}`);
  });

  await step('SIGKILL one server replica; calls succeed through the others', async () => {
    // The CLI and the agent are given all three replicas: the channel balances round robin over
    // those that answer and retries the calls safe to repeat.
    const all = `${p1},${p2},${p3}`;
    const balanced = join(stack.work, 'home-balanced');
    mkdirSync(balanced);
    await keeper(['login', '--login', 'alice'], balanced, all, `${PASSWORD}\n`);
    const agentSession = JSON.parse((await https(stack, 'POST', '/v1/sessions', { login: 'alice', password: PASSWORD })).text).token as string;
    const container = (await containers(stack)).find((state) => state.service === 'server-1')!.name;
    // Docker would restart it within seconds (restart: unless-stopped); kept down meanwhile so
    // the calls below can only be answered by the other two.
    await mustRun('docker', ['update', '--restart', 'no', container], { env: stack.env });
    const victim = await nodePidOf(stack, 'server-1');
    process.kill(victim, 'SIGKILL');
    const exited = await until(
      'server-1 exited',
      async () => {
        const state = (await mustRun('docker', ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', container], { env: stack.env })).trim();
        return state.startsWith('exited') ? state : undefined;
      },
      30_000,
    );
    say(`   killed server-1's node process (host pid ${victim}) with SIGKILL: its container ${exited.replace(' ', ' with ')}; the CLI is given ${all}`);
    for (let round = 1; round <= 3; round++) {
      await keeper(['add', `Added during the outage ${round}`, '--kind', 'note', '--field', `n=${round}`], balanced, all);
      const listed = await keeper(['ls'], balanced, all);
      check(listed.includes(`Added during the outage ${round}`) && /Mail/.test(listed), `keeper ls through the replicas shows:\n${listed}`);
    }
    const synced = await https(stack, 'POST', '/v1/sync', undefined, agentSession);
    check(synced.status === 200 && JSON.parse(synced.text).online === true, `the agent's POST /v1/sync answered ${synced.status}: ${synced.text}`);
    const records = await https(stack, 'GET', '/v1/records', undefined, agentSession);
    const names = (JSON.parse(records.text).records as Array<{ name: string }>).map((record) => record.name);
    check(names.includes('Added during the outage 3'), `the agent lists ${names.join(', ')}`);
    const still = (await mustRun('docker', ['inspect', '--format', '{{.State.Status}}', container], { env: stack.env })).trim();
    check(still === 'exited', `server-1 is ${still}, not down, after the calls`);
    say('   3 adds and 3 listings by the CLI, and a sync and a listing by the agent, all answered by server-2 and server-3 (server-1 still down)');
    await mustRun('docker', ['update', '--restart', 'unless-stopped', container], { env: stack.env });
    await mustRun('docker', ['start', container], { env: stack.env });
    await until(
      'server-1 started again and healthy',
      async () => ((await containers(stack)).find((state) => state.service === 'server-1')?.health === 'healthy' ? true : undefined),
      90_000,
    );
    // server-1 alone, to see that it is back and serves what the others took meanwhile.
    const alone = join(stack.work, 'home-server-1');
    mkdirSync(alone);
    await keeper(['login', '--login', 'alice'], alone, p1, `${PASSWORD}\n`);
    const listed = await keeper(['ls'], alone, p1);
    check(listed.includes('Added during the outage 3'), `server-1, back, lists:\n${listed}`);
    say('   server-1, started again, is healthy and serves what the others took meanwhile');
  });
  return { imageId };
}

async function restartKeepsData(stack: Stack, imageId: string): Promise<void> {
  await step('stop and remove the containers (docker-compose down, volumes kept)', async () => {
    await stack.compose(['down']);
    check((await containers(stack)).length === 0, 'containers are left after down');
  });
  await step('compose up again', async () => {
    await stack.compose(['up', '-d']);
  });
  await waitHealthy(stack, 'every health check again');
  await step('the data is still there (volumes): records, the image and its cover, a login through the agent', async () => {
    const [p1] = stack.ports.servers;
    const home = join(stack.work, 'home-after-restart');
    mkdirSync(home);
    await keeper(['login', '--login', 'alice'], home, `127.0.0.1:${p1}`, `${PASSWORD}\n`);
    const listed = await keeper(['ls'], home, `127.0.0.1:${p1}`);
    const expected = ['Mail', 'Bank', 'Added during the outage 1', 'Added during the outage 2', 'Added during the outage 3'];
    for (const name of expected) check(listed.includes(name), `after the restart keeper ls lacks ${name}:\n${listed}`);
    const out = join(stack.work, 'cover-after-restart');
    mkdirSync(out);
    const coverPath = (await keeper(['image', 'get', imageId, '--rendition', 'cover', '--out', `${out}/`], home, `127.0.0.1:${p1}`)).trim();
    const cover = await sharp(readFileSync(coverPath)).metadata();
    check(cover.width === 120, 'the cover read after the restart is not the 120x120 one');
    const names = await until('the agent answering', () => agentLogsIn(stack), 30_000);
    check(names.length === expected.length, `the agent lists ${names.join(', ')} after the restart`);
    say(`   a fresh client home logged in and found the ${expected.length} records, the image and its cover; the agent lists them too`);
  });
  await step('docker-compose down -v', async () => {
    await stack.compose(['down', '-v']);
    const volumes = (await mustRun('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`], { env: stack.env })).trim();
    check(volumes === '', `volumes left after down -v: ${volumes}`);
  });
}

async function explainFailure(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  try {
    for (const state of await containers(stack)) say(`   ${state.service.padEnd(10)} ${state.status} ${state.health}`);
    const logs = await runCommand('docker-compose', ['-p', PROJECT, '-f', join(stack.work, 'docker-compose.eventlog-in-postgres.json'), 'logs', '--no-color', '--tail', '15'], {
      env: stack.env,
      timeoutMs: 30_000,
    });
    say(logs.stdout.trimEnd());
  } catch (error) {
    say(`   (could not read the containers' state: ${(error as Error).message})`);
  }
}

// ---- main ---------------------------------------------------------------------------------

async function main(): Promise<number> {
  preflight();
  const work = mkdtempSync('/tmp/keeper-docker-');
  const network = snapshotHostNetwork();
  let daemon: Daemon | undefined;
  let stack: Stack | undefined;
  let failed: unknown;
  let cleaning = false;
  const cleanUp = async () => {
    if (cleaning) return;
    cleaning = true;
    const from = performance.now();
    const problems: string[] = [];
    if (daemon) {
      if (stack) await runCommand('docker-compose', ['-p', PROJECT, '-f', join(work, 'docker-compose.eventlog-in-postgres.json'), 'down', '-v', '--timeout', '5'], { env: stack.env, timeoutMs: 120_000 });
      problems.push(...(await stopDaemon(daemon)));
    }
    problems.push(...restoreHostNetwork(network));
    rmSync(work, { recursive: true, force: true });
    timings.push({ name: 'stop dockerd, put host networking back', seconds: seconds(from) });
    say(`\n== dockerd stopped (pid ${daemon?.pid ?? 'none'}), host networking ${problems.length === 0 ? 'as it was (forwarding, iptables, links)' : 'NOT all put back:'}`);
    for (const problem of problems) say(`   ${problem}`);
    return problems;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`\n${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whatever goes wrong, dockerd is stopped and the host's networking put back.
  process.on('uncaughtException', (error) => {
    say(`\nFAILED (uncaught): ${error.stack ?? error.message}`);
    void cleanUp().finally(() => process.exit(1));
  });

  try {
    say(`docker-compose ${(await mustRun('docker-compose', ['version', '--short'])).trim()}, docker ${(await mustRun('docker', ['--version'])).trim()}`);
    daemon = await step('start dockerd (its own data root, in memory, under a temporary directory)', () => startDaemon(work));
    const env = { ...process.env, DOCKER_HOST: daemon.host, DOCKER_BUILDKIT: '0', COMPOSE_DOCKER_CLI_BUILD: '0', COMPOSE_INTERACTIVE_NO_CLI: '1' };
    say(`   dockerd ${(await mustRun('docker', ['version', '--format', '{{.Server.Version}}'], { env })).trim()}, pid ${daemon.pid}`);
    await buildImages(env, work);
    stack = await startStack(env, work);
    await waitHealthy(stack, 'every health check');
    const { imageId } = await exercise(stack);
    await restartKeepsData(stack, imageId);
  } catch (error) {
    failed = error;
    say(`\nFAILED: ${error instanceof Error ? error.message : String(error)}`);
    await explainFailure(stack);
  }
  const leftovers = (await cleanUp()) ?? [];

  say('\nstep times:');
  for (const { name, seconds: took } of timings) say(`  ${took.toFixed(1).padStart(6)} s  ${name}`);
  const total = seconds(began);
  say(`  ${total.toFixed(1).padStart(6)} s  in all (target: under 600 s)`);
  if (failed) return 1;
  if (leftovers.length > 0) {
    say('FAILED: the host is not as it was (above)');
    return 1;
  }
  if (total > 600) {
    say('FAILED: slower than the 10 minutes allowed');
    return 1;
  }
  say('PASSED: the image builds and the compose stack runs, serves, survives a killed replica and a restart');
  return 0;
}

process.exitCode = await main();
