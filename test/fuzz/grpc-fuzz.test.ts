import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import fc from 'fast-check';
import { createLogger } from '../../src/logging.js';
import { LoginRequest, LoginResponse } from '../../src/gen/keeper/v1/auth.js';
import { ListResponse, PullRequest, PullResponse, PushRequest, StatusResponse } from '../../src/gen/keeper/v1/vault.js';
import { pgliteTarget, postgresTarget, type DatabaseTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawGrpcClient, type RawOutcome } from '../support/raw-grpc.js';
import { loadServices, messageArbitraries, mutated, type FuzzMethod, type ValuePools } from './proto-arbitraries.js';

/**
 * Random, damaged and hostile requests against every method of every service, over a real socket
 * to a real server. Properties: no call answers INTERNAL (or UNKNOWN, a handler that threw), the
 * server keeps serving, no value sent shows up in its trace-level log, and a bystander's vault is
 * exactly as it was. Seeded (FUZZ_SEED to replay) and bounded in time (FUZZ_SECONDS).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 25);
const PASSWORD = 'correct horse battery';
const FORGED_TOKEN = `v4.public.${'A'.repeat(40)}`;
const FORBIDDEN = new Set([status.INTERNAL, status.UNKNOWN, status.DATA_LOSS, status.UNAVAILABLE]);

/** Watch streams until the server drains: cut short, which is fine. */
const deadlineFor = (method: FuzzMethod) => (method.path.endsWith('/Watch') ? 300 : 10_000);

const runs: Array<{ target: DatabaseTarget; seconds: number }> = [{ target: pgliteTarget, seconds: SECONDS }];
// Real PostgreSQL costs little more and finds what only its driver does (NUL, encodings).
if (postgresTarget) runs.push({ target: postgresTarget, seconds: Math.max(5, Math.round(SECONDS / 3)) });

for (const { target, seconds } of runs) {
  describe(`fuzz: every gRPC method against a real server (${target.name})`, function () {
    this.timeout(seconds * 1000 + 120_000);
    let server: TestServer;
    let raw: RawGrpcClient;
    let logDir: string;
    let logFile: string;

    before(async () => {
      logDir = await mkdtemp(join(tmpdir(), 'keeper-fuzz-'));
      logFile = join(logDir, 'server.log');
      server = await startTestServer(target, { logger: createLogger('trace', 'fuzz', logFile) });
      raw = new RawGrpcClient(server.address);
    });
    after(async () => {
      raw.close();
      await server.close();
      await rm(logDir, { recursive: true, force: true });
    });

    async function login(name: string): Promise<string> {
      const outcome = await raw.call('/keeper.v1.AuthService/Login', 'unary', [Buffer.from(LoginRequest.encode({ login: name, password: PASSWORD, clientId: 'fuzz' }).finish())]);
      if (outcome.code !== status.OK) throw new Error(`login ${name}: ${outcome.details}`);
      return LoginResponse.decode(outcome.messages[0]!).session!.accessToken;
    }

    /** Everything the bystander can read: status, snapshot, full log. */
    async function snapshot(token: string): Promise<unknown> {
      await server.projected();
      const unary = async (path: string) => {
        const outcome = await raw.call(path, 'unary', [Buffer.alloc(0)], token);
        expect(outcome.code, `${path}: ${outcome.details}`).to.equal(status.OK);
        return outcome.messages[0]!;
      };
      const pulled = await raw.call('/keeper.v1.VaultService/Pull', 'serverStream', [Buffer.from(PullRequest.encode({ sinceVersion: 0, pageBytes: 0 }).finish())], token);
      expect(pulled.code).to.equal(status.OK);
      const listed = await raw.call('/keeper.v1.VaultService/List', 'serverStream', [Buffer.alloc(0)], token);
      expect(listed.code).to.equal(status.OK);
      return {
        status: StatusResponse.decode(await unary('/keeper.v1.VaultService/Status')),
        list: listed.messages.map((message) => ListResponse.decode(message)),
        events: pulled.messages.flatMap((message) => PullResponse.decode(message).events),
      };
    }

    it('never answers INTERNAL, keeps serving, logs no value it was sent, and leaves a bystander untouched', async () => {
      const { methods } = loadServices();
      expect(methods.map((method) => method.path)).to.include.members(['/keeper.v1.VaultService/Push', '/grpc.health.v1.Health/Check', '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo']);

      // The bystander: records with secrets in them, made through the real client.
      const bystanderLogin = `bystander-${randomUUID().slice(0, 8)}`;
      const bystander = await server.client();
      await bystander.register(bystanderLogin, PASSWORD);
      const recordIds = [randomUUID(), randomUUID()];
      const secretValues = [`bystander-secret-${randomUUID()}`, `bystander-card-${randomUUID()}`];
      const push = PushRequest.encode({
        expectedVersion: 0,
        clientId: 'bystander',
        mutations: recordIds.map((recordId, index) => ({
          mutationId: randomUUID(),
          change: { $case: 'create', value: { recordId, kind: 'login', name: `Mail ${index}`, fields: [{ name: 'password', value: secretValues[index]!, sensitive: true, kind: '' }], conflictOf: '', tags: [], favourite: false } },
        })),
      }).finish();
      const bystanderToken = await login(bystanderLogin);
      expect((await raw.call('/keeper.v1.VaultService/Push', 'unary', [Buffer.from(push)], bystanderToken)).code).to.equal(status.OK);
      const before = await snapshot(bystanderToken);

      // The attacker: a valid account of its own, and its token (renewed if a fuzzed call ends it).
      const attackerLogin = `attacker-${randomUUID().slice(0, 8)}`;
      await (await server.client()).register(attackerLogin, PASSWORD);
      let attackerToken = await login(attackerLogin);
      const tokensSent = [attackerToken, FORGED_TOKEN];

      const pools: ValuePools = {
        strings: [...recordIds, randomUUID(), bystanderLogin, attackerLogin, 'login', 'note', 'card', 'custom', 'scrypt', PASSWORD, '{}', 'keeper.v1.VaultService', '*', ''],
        sent: new Set(),
      };
      const messageOf = messageArbitraries(loadServices().definition, pools);
      const callArb = fc
        .constantFrom(...methods)
        .chain((method) =>
          fc.record({
            method: fc.constant(method),
            credential: fc.constantFrom('none', 'garbage', 'attacker', 'attacker', 'attacker'),
            messages: fc.array(
              fc.oneof(
                { weight: 5, arbitrary: messageOf(method.requestType) },
                { weight: 3, arbitrary: mutated(messageOf(method.requestType)) },
                { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
              ),
              { minLength: method.kind === 'clientStream' || method.kind === 'bidi' ? 0 : 1, maxLength: method.kind === 'clientStream' || method.kind === 'bidi' ? 3 : 1 },
            ),
          }),
        );

      let calls = 0;
      const codes = new Map<string, number>();
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 8 }), async (sequence) => {
          for (const { method, credential, messages } of sequence) {
            const token = credential === 'attacker' ? attackerToken : credential === 'garbage' ? FORGED_TOKEN : undefined;
            const outcome: RawOutcome = await raw.call(method.path, method.kind, messages.map((bytes) => Buffer.from(bytes)), token, deadlineFor(method));
            calls += 1;
            const name = status[outcome.code] ?? String(outcome.code);
            codes.set(name, (codes.get(name) ?? 0) + 1);
            if (FORBIDDEN.has(outcome.code)) throw new Error(`${method.path} answered ${name}: ${outcome.details}`);
          }
          // A fuzzed Logout or RevokeSessions may have ended the attacker's session: start another.
          const check = await raw.call('/keeper.v1.VaultService/Status', 'unary', [Buffer.alloc(0)], attackerToken);
          if (check.code === status.UNAUTHENTICATED) tokensSent.push((attackerToken = await login(attackerLogin)));
        }),
        { seed: SEED, numRuns: 100_000, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false, endOnFailure: true },
      );
      console.log(
        `      ${calls} calls in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}): ` +
          [...codes.entries()].sort((a, b) => b[1] - a[1]).map(([code, count]) => `${code} ${count}`).join(', '),
      );

      // Still serving, and the bystander's vault is exactly as it was.
      const health = await raw.call('/grpc.health.v1.Health/Check', 'unary', [Buffer.alloc(0)]);
      expect(health.code).to.equal(status.OK);
      expect(await snapshot(bystanderToken)).to.deep.equal(before);

      // Nothing that was sent shows up in the log, nor the bystander's secrets.
      const log = await readFile(logFile, 'utf8');
      const leaked = [...pools.sent, ...secretValues, ...tokensSent, bystanderToken, PASSWORD].filter((value) => log.includes(value));
      expect(leaked, 'values found in the server log').to.deep.equal([]);
      expect(pools.sent.size).to.be.greaterThan(10);
    });
  });
}
