import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { expect } from 'chai';
import { createLogger } from '../../src/logging.js';
import { ListResponse, PullRequest, PushRequest, PushResponse, StatusResponse } from '../../src/gen/keeper/v1/vault.js';
import { RegisterRequest } from '../../src/gen/keeper/v1/auth.js';
import { UploadImageRequest } from '../../src/gen/keeper/v1/images.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawGrpcClient, type MethodKind } from '../support/raw-grpc.js';

/** A length-delimited field 1 whose length runs far past the end: no protobuf parser can read it. */
const GARBAGE = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);

const METHODS: Array<{ path: string; kind: MethodKind }> = [
  { path: '/keeper.v1.AuthService/Register', kind: 'unary' },
  { path: '/keeper.v1.AuthService/Login', kind: 'unary' },
  { path: '/keeper.v1.AuthService/Refresh', kind: 'unary' },
  { path: '/keeper.v1.AuthService/Logout', kind: 'unary' },
  { path: '/keeper.v1.VaultService/Status', kind: 'unary' },
  { path: '/keeper.v1.VaultService/List', kind: 'serverStream' },
  { path: '/keeper.v1.VaultService/Pull', kind: 'serverStream' },
  { path: '/keeper.v1.VaultService/Push', kind: 'unary' },
  { path: '/keeper.v1.VaultService/Watch', kind: 'serverStream' },
  { path: '/keeper.v1.ImageService/UploadImage', kind: 'clientStream' },
  { path: '/keeper.v1.ImageService/DownloadImage', kind: 'serverStream' },
  { path: '/keeper.v1.ImageService/ListImages', kind: 'unary' },
  { path: '/keeper.v1.ImageService/DeleteImage', kind: 'unary' },
  { path: '/grpc.health.v1.Health/Check', kind: 'unary' },
  { path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', kind: 'bidi' },
  { path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', kind: 'bidi' },
];

/** A uint64 field above 2^53 (appended last, so it wins over the same field earlier in the message). */
function hugeUint64(fieldNumber: number): Buffer {
  return Buffer.from(new BinaryWriter().uint32((fieldNumber << 3) | 0).uint64(2n ** 60n).finish());
}

/** `bytes` with the first occurrence of the ASCII `marker` replaced by bytes of the same length. */
function replaced(bytes: Uint8Array, marker: string, replacement: number[]): Buffer {
  const buffer = Buffer.from(bytes);
  const at = buffer.indexOf(marker);
  if (at < 0 || replacement.length !== marker.length) throw new Error('marker not found');
  Buffer.from(replacement).copy(buffer, at);
  return buffer;
}

const createPush = (name: string, value = 'v', expectedVersion = 0, recordId = randomUUID()) =>
  PushRequest.encode({
    expectedVersion,
    clientId: 'raw-test',
    mutations: [
      {
        mutationId: randomUUID(),
        change: { $case: 'create', value: { recordId, kind: 'note', name, fields: [{ name: 'f', value, sensitive: true, kind: '' }], conflictOf: '', tags: [], favourite: false } },
      },
    ],
  }).finish();

describe('malformed requests over gRPC', function () {
  let server: TestServer;
  let raw: RawGrpcClient;
  let token: string;
  let logDir: string;
  let logFile: string;

  before(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'keeper-log-'));
    logFile = join(logDir, 'server.log');
    server = await startTestServer(pgliteTarget, { logger: createLogger('trace', 'test', logFile) });
    raw = new RawGrpcClient(server.address);
    const client = await server.client();
    token = (await client.register(`raw-${randomUUID().slice(0, 8)}`, 'correct horse battery')).accessToken;
  });
  after(async () => {
    raw.close();
    await server.close();
    await rm(logDir, { recursive: true, force: true });
  });

  /** Creates a record (through the raw client, at the current version) and returns its id. */
  async function created(name: string, value = 'v'): Promise<string> {
    const version = StatusResponse.decode((await raw.call('/keeper.v1.VaultService/Status', 'unary', [Buffer.alloc(0)], token)).messages[0]!).version;
    const recordId = randomUUID();
    const outcome = await raw.call('/keeper.v1.VaultService/Push', 'unary', [Buffer.from(createPush(name, value, version, recordId))], token);
    expect(outcome.code, outcome.details).to.equal(status.OK);
    expect(PushResponse.decode(outcome.messages[0]!).result?.$case).to.equal('accepted');
    return recordId;
  }

  async function records(): Promise<ListResponse['records']> {
    const outcome = await raw.call('/keeper.v1.VaultService/List', 'serverStream', [Buffer.alloc(0)], token);
    expect(outcome.code).to.equal(status.OK);
    return outcome.messages.flatMap((message) => ListResponse.decode(message).records);
  }

  it('answers INVALID_ARGUMENT with a sentence to bytes that are not protobuf, on every method', async () => {
    for (const { path, kind } of METHODS) {
      const outcome = await raw.call(path, kind, [GARBAGE], token);
      expect(outcome.code, path).to.equal(status.INVALID_ARGUMENT);
      expect(outcome.details, path).to.match(/not a valid .*message/);
    }
  });

  it('refuses garbage inside an upload after a good header, and logs nothing above debug for any of it', async () => {
    const recordId = await created('with a picture');
    const logBefore = (await readFile(logFile, 'utf8')).length;
    const header = UploadImageRequest.encode({
      part: {
        $case: 'header',
        value: { imageId: randomUUID(), recordId, fileName: 'a.jpg', declaredType: 'image/jpeg', size: 10, sha256: 'a'.repeat(64), encrypted: false, rendition: 1 },
      },
    }).finish();
    for (let i = 0; i < 5; i += 1) {
      const outcome = await raw.call('/keeper.v1.ImageService/UploadImage', 'clientStream', [Buffer.from(header), GARBAGE, GARBAGE], token);
      expect(outcome.code).to.equal(status.INVALID_ARGUMENT);
    }
    const lines = (await readFile(logFile, 'utf8'))
      .slice(logBefore)
      .split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string });
    const loud = lines.filter((line) => line.level > 20);
    expect(loud.map((line) => line.msg)).to.deep.equal([]);
  });

  it('refuses a version above 2^53 in expected_version, since_version and from_version with INVALID_ARGUMENT', async () => {
    const push = Buffer.concat([createPush('big version'), hugeUint64(1)]);
    expect((await raw.call('/keeper.v1.VaultService/Push', 'unary', [push], token)).code).to.equal(status.INVALID_ARGUMENT);

    const pull = Buffer.concat([PullRequest.encode({ sinceVersion: 0, pageBytes: 0 }).finish(), hugeUint64(1)]);
    expect((await raw.call('/keeper.v1.VaultService/Pull', 'serverStream', [pull], token)).code).to.equal(status.INVALID_ARGUMENT);
    // Refused before it could start following: no message, and no wait for the deadline.
    const watch = await raw.call('/keeper.v1.VaultService/Watch', 'serverStream', [hugeUint64(1)], token, 5_000);
    expect([watch.code, watch.messages.length]).to.deep.equal([status.INVALID_ARGUMENT, 0]);

    // RestoreRecord.from_version is field 5 of the restore inside mutation 1 of the push.
    const restoreChange = new BinaryWriter().uint32(10).string(randomUUID()).uint32(18).string('note').uint32(26).string('n').uint32(40).uint64(2n ** 60n).finish();
    const mutation = new BinaryWriter().uint32(10).string(randomUUID()).uint32(42).bytes(restoreChange).finish();
    const restorePush = Buffer.from(new BinaryWriter().uint32(18).string('raw').uint32(26).bytes(mutation).finish());
    const outcome = await raw.call('/keeper.v1.VaultService/Push', 'unary', [restorePush], token);
    expect(outcome.code).to.equal(status.INVALID_ARGUMENT);
    expect(outcome.details).to.match(/2\^53|too large|larger/i);
  });

  it('refuses invalid UTF-8 in a string field instead of storing U+FFFD', async () => {
    const before = (await records()).length;
    for (const bytes of [
      replaced(createPush('XX'), 'XX', [0xc3, 0x28]),
      replaced(createPush('name', 'VVVV'), 'VVVV', [0xf0, 0x28, 0x8c, 0xbc]),
      replaced(createPush('name', 'ED'), 'ED', [0xed, 0xa0]),
    ]) {
      const outcome = await raw.call('/keeper.v1.VaultService/Push', 'unary', [bytes], token);
      expect(outcome.code).to.equal(status.INVALID_ARGUMENT);
      expect(outcome.details).to.match(/UTF-8/);
    }
    expect((await records()).length).to.equal(before);

    const register = replaced(RegisterRequest.encode({ login: 'LLLLLLLL', password: 'correct horse battery', clientId: '' }).finish(), 'LL', [0xc0, 0xaf]);
    expect((await raw.call('/keeper.v1.AuthService/Register', 'unary', [register])).code).to.equal(status.INVALID_ARGUMENT);
  });

  it('still answers a well-formed request (valid multi-byte UTF-8 included)', async () => {
    await created('Café ☕ 日本', 'naïve 🔑');
    expect((await records()).map((record) => record.name)).to.include('Café ☕ 日本');
  });
});
