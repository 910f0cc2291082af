import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createLogger } from '../../src/logging.js';
import { LoginRequest, LogoutRequest, RefreshRequest, RefreshResponse, RegisterRequest, RegisterResponse } from '../../src/gen/keeper/v1/auth.js';
import { PullRequest, PushRequest, StatusResponse, type Mutation } from '../../src/gen/keeper/v1/vault.js';
import { ListImagesRequest, Rendition, UploadImageRequest } from '../../src/gen/keeper/v1/images.js';
import type { Database, SqlExecutor } from '../../src/server/sql/database.js';
import { databaseTargets, type DatabaseTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawGrpcClient, type MethodKind, type RawOutcome } from '../support/raw-grpc.js';

/** A distinctive value that must never show up in a log. */
const secret = (label: string) => `${label}-SECRET-${randomBytes(6).toString('hex')}`;

async function logDirectory(): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keeper-log-safety-'));
  return { dir, file: join(dir, 'server.log') };
}

function expectNoneIn(log: string, secrets: string[]): void {
  const found = secrets.filter((value) => log.includes(value));
  expect(found, 'secrets found in the log').to.deep.equal([]);
}

describe('log safety: the logger itself', () => {
  it('logs errors without their parameters, failing rows, statements, paths or quoted values, at any depth', async () => {
    const { dir, file } = await logDirectory();
    try {
      const logger = createLogger('trace', 'test', file);
      const secrets = [secret('param'), secret('detail'), secret('query'), secret('quoted'), secret('path'), secret('password'), secret('token'), secret('cause')];
      const [param, detail, query, quoted, path, password, token, cause] = secrets as [string, string, string, string, string, string, string, string];
      // What PGlite and pg hang on their errors.
      const driverError = Object.assign(new Error(`invalid input syntax for type integer: "${quoted}"`), {
        code: '22P02',
        params: [param],
        query: `SELECT '${query}'`,
        detail: `Key (login)=(${detail}) already exists.`,
      });
      const fsError = Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', path });
      const wrapped = new Error('append failed', { cause: Object.assign(new Error('inner'), { params: [cause] }) });

      logger.error({ err: driverError }, 'internal error');
      logger.warn(fsError, 'could not read');
      logger.error({ error: wrapped, nested: { deeper: { password, accessToken: token } } }, 'nested');
      logger.debug({ request: { refreshToken: token }, list: [{ password }], failure: driverError }, 'debug line');
      logger.warn({ reason: driverError.message }, 'the database is unavailable; retrying');
      logger.flush();

      const log = await readFile(file, 'utf8');
      expectNoneIn(log, secrets);
      const lines = log.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; err?: { type: string; code: string; stack: string } });
      const internal = lines.find((line) => line.msg === 'internal error')!;
      expect(internal.err?.code).to.equal('22P02');
      expect(internal.err?.type).to.equal('Error');
      expect(internal.err?.stack).to.match(/^\s+at /);
      expect(log).to.include('invalid input syntax for type integer');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A database that fails any statement one of whose parameters holds FAULT- the way the real driver
 * fails a bad statement: it runs one that cannot work with that parameter and throws its error
 * (which, on PGlite, carries the parameters; on both, the value in its message).
 */
function faultyDatabase(db: Database): Database {
  const faulty = (executor: SqlExecutor): SqlExecutor['query'] =>
    (async (text: string, params?: readonly unknown[], options?: { name?: string }) => {
      const trigger = params?.find((param) => typeof param === 'string' && param.includes('FAULT-'));
      if (trigger !== undefined) await executor.query('SELECT $1::int AS n', [trigger]);
      return executor.query(text, params, options);
    }) as SqlExecutor['query'];
  return {
    kind: db.kind,
    query: faulty(db),
    transaction: (fn, options) => db.transaction((tx) => fn({ query: faulty(tx) }), options),
    exec: (script) => db.exec(script),
    close: () => db.close(),
  };
}

function faultyTarget(target: DatabaseTarget): DatabaseTarget {
  const inner = new WeakMap<Database, Database>();
  return {
    name: target.name,
    async open() {
      const db = await target.open();
      const wrapped = faultyDatabase(db);
      inner.set(wrapped, db);
      return wrapped;
    },
    dispose: (db) => target.dispose(inner.get(db) ?? db),
  };
}

for (const target of databaseTargets) {
  describe(`log safety: a server logging at trace (${target.name})`, function () {
    let server: TestServer;
    let raw: RawGrpcClient;
    let log: { dir: string; file: string };

    before(async () => {
      log = await logDirectory();
      server = await startTestServer(faultyTarget(target), { logger: createLogger('trace', 'test', log.file) });
      raw = new RawGrpcClient(server.address);
    });
    after(async () => {
      raw.close();
      await server.close();
      await rm(log.dir, { recursive: true, force: true });
    });

    const call = (path: string, bytes: Uint8Array, token?: string, kind: MethodKind = 'unary'): Promise<RawOutcome> =>
      raw.call(path, kind, [Buffer.from(bytes)], token);

    it('never logs a password, token, field value or parameter it was sent, through any path, failing ones included', async () => {
      const secrets: string[] = [];
      const keep = (value: string) => {
        secrets.push(value);
        return value;
      };

      // Auth: good and bad registrations and logins, refresh and logout with good and bad tokens.
      const login = `log-${randomUUID().slice(0, 8)}`;
      const password = keep(secret('password'));
      const registered = await call('/keeper.v1.AuthService/Register', RegisterRequest.encode({ login, password, clientId: keep(secret('device')) }).finish());
      expect(registered.code).to.equal(status.OK);
      const session = RegisterResponse.decode(registered.messages[0]!).session!;
      keep(session.accessToken);
      keep(session.refreshToken);
      expect((await call('/keeper.v1.AuthService/Register', RegisterRequest.encode({ login: keep(`x${randomBytes(4).toString('hex')}`), password: keep(randomBytes(4).toString('hex')), clientId: '' }).finish())).code).to.equal(status.INVALID_ARGUMENT);
      expect((await call('/keeper.v1.AuthService/Register', RegisterRequest.encode({ login, password: keep(secret('taken')), clientId: '' }).finish())).code).to.equal(status.ALREADY_EXISTS);
      expect((await call('/keeper.v1.AuthService/Register', RegisterRequest.encode({ login: keep(secret('FAULT')), password: keep(secret('faultpw')), clientId: '' }).finish())).code).to.not.equal(status.OK);
      expect((await call('/keeper.v1.AuthService/Login', LoginRequest.encode({ login, password: keep(secret('wrong')), clientId: '' }).finish())).code).to.equal(status.UNAUTHENTICATED);
      expect((await call('/keeper.v1.AuthService/Login', LoginRequest.encode({ login: `nul\u0000${keep(secret('nullogin'))}`, password, clientId: '' }).finish())).code).to.equal(status.INVALID_ARGUMENT);
      expect((await call('/keeper.v1.AuthService/Login', LoginRequest.encode({ login: keep(secret('FAULT')), password, clientId: '' }).finish())).code).to.not.equal(status.OK);
      expect((await call('/keeper.v1.AuthService/Refresh', RefreshRequest.encode({ refreshToken: keep(secret('refresh')) }).finish())).code).to.equal(status.UNAUTHENTICATED);
      const refreshed = await call('/keeper.v1.AuthService/Refresh', RefreshRequest.encode({ refreshToken: session.refreshToken }).finish());
      expect(refreshed.code).to.equal(status.OK);
      const fresh = RefreshResponse.decode(refreshed.messages[0]!).session!;
      const token = keep(fresh.accessToken);
      keep(fresh.refreshToken);
      expect((await call('/keeper.v1.VaultService/Status', new Uint8Array(), keep(secret('access')))).code).to.equal(status.UNAUTHENTICATED);

      // Vault: pushes with sensitive values, refused ones, conflicting ones, and one the database fails.
      const version = async () => StatusResponse.decode((await call('/keeper.v1.VaultService/Status', new Uint8Array(), token)).messages[0]!).version;
      const push = async (mutations: Mutation[], expectedVersion?: number) =>
        call('/keeper.v1.VaultService/Push', PushRequest.encode({ expectedVersion: expectedVersion ?? (await version()), clientId: keep(secret('client')), mutations }).finish(), token);
      const create = (name: string, value: string): Mutation => ({
        mutationId: randomUUID(),
        change: { $case: 'create', value: { recordId: randomUUID(), kind: 'login', name, fields: [{ name: keep(secret('fieldname')), value, sensitive: true, kind: '' }], conflictOf: '', tags: [], favourite: false } },
      });
      expect((await push([create(keep(secret('name')), keep(secret('value')))])).code).to.equal(status.OK);
      expect((await push([create('nul', `x\u0000${keep(secret('nulvalue'))}`)])).code).to.equal(status.INVALID_ARGUMENT);
      expect((await push([create(keep(secret('long')).padEnd(300, 'y'), keep(secret('value')))])).code).to.equal(status.INVALID_ARGUMENT);
      expect((await push([create('conflict', keep(secret('conflict')))], 0)).code).to.equal(status.OK);
      const faulted = await push([create('fault', keep(secret('FAULT')))]);
      expect(faulted.code).to.equal(status.INTERNAL);
      expect((await push([{ mutationId: randomUUID(), change: { $case: 'setVaultKey', value: { keyId: randomUUID(), replacesKeyId: '', envelope: keep(secret('envelope')) } } }])).code).to.not.equal(status.INTERNAL);
      expect((await call('/keeper.v1.VaultService/Pull', PullRequest.encode({ sinceVersion: 0, pageBytes: 0 }).finish(), token, 'serverStream')).code).to.equal(status.OK);

      // Images: an upload that is no image, and garbage after a header.
      const recordId = randomUUID();
      expect((await push([{ ...create('pictures', keep(secret('value'))), change: { $case: 'create', value: { recordId, kind: 'note', name: 'pictures', fields: [], conflictOf: '', tags: [], favourite: false } } }])).code).to.equal(status.OK);
      const content = Buffer.from(keep(secret('imagebytes')));
      const header = UploadImageRequest.encode({
        part: {
          $case: 'header',
          value: { imageId: randomUUID(), recordId, fileName: `${keep(secret('file'))}.jpg`, declaredType: 'image/jpeg', size: content.length, sha256: 'a'.repeat(64), encrypted: false, rendition: Rendition.RENDITION_ORIGINAL },
        },
      }).finish();
      const chunk = UploadImageRequest.encode({ part: { $case: 'chunk', value: content } }).finish();
      expect((await raw.call('/keeper.v1.ImageService/UploadImage', 'clientStream', [Buffer.from(header), Buffer.from(chunk)], token)).code).to.not.equal(status.OK);
      expect((await raw.call('/keeper.v1.ImageService/UploadImage', 'clientStream', [Buffer.from(header), Buffer.from([0x0a, 0xff, 0xff])], token)).code).to.equal(status.INVALID_ARGUMENT);
      expect((await call('/keeper.v1.ImageService/ListImages', ListImagesRequest.encode({ recordId: keep(secret('recordref')) }).finish(), token)).code).to.equal(status.INVALID_ARGUMENT);

      expect((await call('/keeper.v1.AuthService/Logout', LogoutRequest.encode({ refreshToken: fresh.refreshToken }).finish())).code).to.equal(status.OK);
      expect((await call('/keeper.v1.AuthService/Logout', LogoutRequest.encode({ refreshToken: keep(secret('logout')) }).finish())).code).to.not.equal(status.INTERNAL);

      await server.projected();
      const text = await readFile(log.file, 'utf8');
      // The database fault was logged, usefully: what failed, never with what.
      expect(text).to.match(/"msg":"internal error"/);
      expect(text).to.include('22P02');
      expectNoneIn(text, secrets.map((value) => value.replace('FAULT-', '')));
      expectNoneIn(text, secrets);
    });
  });
}
