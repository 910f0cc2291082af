import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createVaultKey } from '../../src/client/crypto/index.js';
import { ListResponse, PushRequest, StatusResponse } from '../../src/gen/keeper/v1/vault.js';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawGrpcClient, type RawOutcome } from '../support/raw-grpc.js';

const WEAK = { allowWeakForTests: true, kdf: { N: 2 ** 10 } };

for (const target of databaseTargets) {
  describe(`SetVaultKey envelopes are checked by the server (${target.name})`, function () {
    let server: TestServer;
    let raw: RawGrpcClient;
    let token: string;
    let userId: string;

    before(async () => {
      server = await startTestServer(target);
      raw = new RawGrpcClient(server.address);
      const session = await (await server.client()).register(`env-${randomUUID().slice(0, 8)}`, 'correct horse battery');
      token = session.accessToken;
      userId = session.userId;
    });
    after(async () => {
      raw.close();
      await server.close();
    });

    async function setVaultKey(envelope: string): Promise<RawOutcome> {
      const version = StatusResponse.decode((await raw.call('/keeper.v1.VaultService/Status', 'unary', [Buffer.alloc(0)], token)).messages[0]!).version;
      const request = PushRequest.encode({
        expectedVersion: version,
        clientId: 'env-test',
        mutations: [{ mutationId: randomUUID(), change: { $case: 'setVaultKey', value: { keyId: randomUUID(), replacesKeyId: '', envelope } } }],
      }).finish();
      return raw.call('/keeper.v1.VaultService/Push', 'unary', [Buffer.from(request)], token);
    }

    it('refuses an envelope no client could open, naming what is wrong, and hands nothing out through List', async () => {
      const { envelope } = await createVaultKey('a secret word', userId, WEAK);
      const cases: Array<[string, RegExp]> = [
        ['not json at all', /mutations\.0\.envelope: must be a vault key envelope/],
        ['{"hello":"world"}', /mutations\.0\.envelope/],
        [JSON.stringify({ ...envelope, v: 2 }), /mutations\.0\.envelope\.v: unsupported version/],
        [JSON.stringify({ ...envelope, wrapped: 'AAAA' }), /mutations\.0\.envelope\.wrapped: must be canonical base64 of 60 bytes/],
        [JSON.stringify({ ...envelope, kdf: { ...envelope.kdf, N: 2 ** 30 } }), /mutations\.0\.envelope\.kdf\.N: /],
        [JSON.stringify({ ...envelope, kdf: { ...envelope.kdf, alg: 'md5' } }), /mutations\.0\.envelope\.kdf\.alg/],
        [JSON.stringify({ ...envelope, extra: true }), /mutations\.0\.envelope/],
        [JSON.stringify({ ...(await createVaultKey('a secret word', randomUUID(), WEAK)).envelope }), /mutations\.0\.envelope\.userId: must be the id of the user pushing it/],
      ];
      for (const [text, expected] of cases) {
        const outcome = await setVaultKey(text);
        expect(outcome.code, text).to.equal(status.INVALID_ARGUMENT);
        expect(outcome.details, text).to.match(expected);
      }
      await server.projected();
      const list = ListResponse.decode((await raw.call('/keeper.v1.VaultService/List', 'serverStream', [Buffer.alloc(0)], token)).messages[0]!);
      expect(list.vaultKey).to.equal(undefined);
    });

    it('accepts an envelope a client made for this user, and hands it back through List', async () => {
      const { envelope } = await createVaultKey('a secret word', userId, WEAK);
      const outcome = await setVaultKey(JSON.stringify(envelope));
      expect(outcome.code, outcome.details).to.equal(status.OK);
      await server.projected();
      const list = ListResponse.decode((await raw.call('/keeper.v1.VaultService/List', 'serverStream', [Buffer.alloc(0)], token)).messages[0]!);
      expect(JSON.parse(list.vaultKey!.envelope)).to.deep.equal(envelope);
    });
  });
}
