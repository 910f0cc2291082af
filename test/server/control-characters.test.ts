import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { LoginRequest, RegisterRequest } from '../../src/gen/keeper/v1/auth.js';
import { ListResponse, PushRequest, PushResponse, StatusResponse, type Field, type Mutation } from '../../src/gen/keeper/v1/vault.js';
import { databaseTargets } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawGrpcClient, type RawOutcome } from '../support/raw-grpc.js';

const PASSWORD = 'correct horse battery';

const create = (name: string, fields: Field[]): Mutation => ({
  mutationId: randomUUID(),
  change: { $case: 'create', value: { recordId: randomUUID(), kind: 'note', name, fields, conflictOf: '', tags: [], favourite: false } },
});
const field = (name: string, value: string): Field => ({ name, value, sensitive: true, kind: '' });

for (const target of databaseTargets) {
  describe(`control characters in requests (${target.name})`, function () {
    let server: TestServer;
    let raw: RawGrpcClient;
    let token: string;

    before(async () => {
      server = await startTestServer(target);
      raw = new RawGrpcClient(server.address);
      token = (await (await server.client()).register(`ctl-${randomUUID().slice(0, 8)}`, PASSWORD)).accessToken;
    });
    after(async () => {
      raw.close();
      await server.close();
    });

    async function version(): Promise<number> {
      const outcome = await raw.call('/keeper.v1.VaultService/Status', 'unary', [Buffer.alloc(0)], token);
      return StatusResponse.decode(outcome.messages[0]!).version;
    }

    async function push(mutations: Mutation[], clientId = 'ctl-test'): Promise<RawOutcome> {
      const request = PushRequest.encode({ expectedVersion: await version(), clientId, mutations }).finish();
      return raw.call('/keeper.v1.VaultService/Push', 'unary', [Buffer.from(request)], token);
    }

    it('refuses NUL and other control characters in names and client ids with INVALID_ARGUMENT naming the field', async () => {
      const recordId = randomUUID();
      expect((await push([{ mutationId: randomUUID(), change: { $case: 'create', value: { recordId, kind: 'note', name: 'ok', fields: [], conflictOf: '', tags: [], favourite: false } } }])).code).to.equal(status.OK);
      const cases: Array<{ mutations: Mutation[]; clientId?: string; names: RegExp }> = [
        { mutations: [create('bad\u0000name', [])], names: /mutations\.0\.name: .*control characters/ },
        { mutations: [create('bell\u0007', [])], names: /mutations\.0\.name: / },
        { mutations: [create('two\nlines', [])], names: /mutations\.0\.name: / },
        { mutations: [create('ok', [field('fi\u0000eld', 'v')])], names: /mutations\.0\.fields\.0\.name: / },
        { mutations: [create('ok', [field('f', 'secret\u0000value')])], names: /mutations\.0\.fields\.0\.value: / },
        { mutations: [create('ok', [field('f', 'escape \u001b[31m')])], names: /mutations\.0\.fields\.0\.value: / },
        { mutations: [create('ok', [])], clientId: 'device\u0000one', names: /clientId: / },
        {
          mutations: [{ mutationId: randomUUID(), change: { $case: 'update', value: { recordId, name: 'x\u0000', setFields: [], removeFields: [], tags: undefined } } }],
          names: /mutations\.0\.name: /,
        },
        {
          mutations: [{ mutationId: randomUUID(), change: { $case: 'update', value: { recordId, setFields: [field('a', '\u0000')], removeFields: [], tags: undefined } } }],
          names: /mutations\.0\.setFields\.0\.value: /,
        },
        {
          mutations: [{ mutationId: randomUUID(), change: { $case: 'update', value: { recordId, setFields: [], removeFields: ['gone\u0000'], tags: undefined } } }],
          names: /mutations\.0\.removeFields\.0: /,
        },
      ];
      const before = await version();
      for (const { mutations, clientId, names } of cases) {
        const outcome = await push(mutations, clientId);
        expect(outcome.code, JSON.stringify(mutations)).to.equal(status.INVALID_ARGUMENT);
        expect(outcome.details).to.match(names);
      }
      expect(await version()).to.equal(before);
    });

    it('keeps tabs and line breaks in a value (a multi-line note)', async () => {
      const note = 'line one\n\tindented\r\nline three';
      const outcome = await push([create('Note', [field('text', note)])]);
      expect(outcome.code, outcome.details).to.equal(status.OK);
      expect(PushResponse.decode(outcome.messages[0]!).result?.$case).to.equal('accepted');
      await server.projected();
      const list = ListResponse.decode((await raw.call('/keeper.v1.VaultService/List', 'serverStream', [Buffer.alloc(0)], token)).messages[0]!);
      expect(list.records.flatMap((record) => record.fields.map((f) => f.value))).to.include(note);
    });

    it('refuses NUL in the login of Login and Register, and in a new password, with INVALID_ARGUMENT naming the field', async () => {
      const login = await raw.call('/keeper.v1.AuthService/Login', 'unary', [Buffer.from(LoginRequest.encode({ login: 'ali\u0000ce', password: PASSWORD, clientId: '' }).finish())]);
      expect(login.code).to.equal(status.INVALID_ARGUMENT);
      expect(login.details).to.match(/^login: /);

      const register = await raw.call('/keeper.v1.AuthService/Register', 'unary', [Buffer.from(RegisterRequest.encode({ login: 'bo\u0000b', password: PASSWORD, clientId: '' }).finish())]);
      expect(register.code).to.equal(status.INVALID_ARGUMENT);
      expect(register.details).to.match(/^login: /);

      // bcrypt would read the password only up to the NUL
      const password = await raw.call('/keeper.v1.AuthService/Register', 'unary', [
        Buffer.from(RegisterRequest.encode({ login: `nul-${randomUUID().slice(0, 8)}`, password: 'correct horse\u0000anything', clientId: '' }).finish()),
      ]);
      expect(password.code).to.equal(status.INVALID_ARGUMENT);
      expect(password.details).to.match(/^password: /);
    });
  });
}
