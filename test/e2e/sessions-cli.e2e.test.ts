import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

describe('keeper sessions (CLI end to end)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let homes: string[];
  const env = (home: string) => ({ KEEPER_SERVER: server.address, KEEPER_HOME: home });

  before(async () => {
    server = await startTestServer(pgliteTarget);
    homes = await Promise.all([1, 2].map(() => mkdtemp(join(tmpdir(), 'keeper-sessions-'))));
  });
  after(async () => {
    await server.close();
    await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
  });

  it('lists sessions, revokes the others (which stop at once) and this one (which logs out here)', async () => {
    const [laptop, desk] = homes as [string, string];
    expect((await keeper(['register', '--login', 'sam'], env(laptop), 'correct horse battery\n')).code).to.equal(0);
    expect((await keeper(['ls'], env(laptop))).code).to.equal(0);
    expect((await keeper(['login', '--login', 'sam'], env(desk), 'correct horse battery\n')).code).to.equal(0);
    const laptopId = (await readFile(join(laptop, 'client-id'), 'utf8')).trim();
    const deskId = (await readFile(join(desk, 'client-id'), 'utf8')).trim();

    const listed = await keeper(['sessions'], env(desk));
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.match(/^ID\s+CLIENT\s+CREATED\s+LAST USED/);
    expect(listed.stdout).to.match(new RegExp(`${deskId}\\s+\\S+ \\S+\\s+\\S+ \\S+\\s+this one`));
    expect(listed.stdout).to.contain(laptopId);
    expect(listed.stdout).to.contain('2 sessions');
    const json = JSON.parse((await keeper(['sessions', '--json'], env(desk))).stdout) as { sessionId: string; clientId: string; current: boolean }[];
    expect(json.map((s) => [s.clientId, s.current]).sort()).to.deep.equal([
      [deskId, true],
      [laptopId, false],
    ].sort());

    expectSentence(await keeper(['sessions', 'revoke'], env(desk)), 2, /session id .* or --all-others/);
    expectSentence(await keeper(['sessions', 'revoke', 'deadbeef'], env(desk)), 4, /no session of yours matches "deadbeef"/);
    expectSentence(await keeper(['sessions', 'revoke', 'abc'], env(desk)), 2, /at least 8 characters/);

    const others = await keeper(['sessions', 'revoke', '--all-others'], env(desk));
    expect(others.code, others.stderr).to.equal(0);
    expect(others.stdout).to.contain('ended 1 other session; this one goes on');
    expectSentence(await keeper(['ls'], env(laptop)), 3, /session ended \(it was revoked from another session\): run `keeper login` again/);

    const mine = json.find((s) => s.current)!.sessionId;
    const self = await keeper(['sessions', 'revoke', mine.slice(0, 8)], env(desk));
    expect(self.code, self.stderr).to.equal(0);
    expect(self.stdout).to.contain('it was this one, so you are logged out here');
    expectSentence(await keeper(['sessions'], env(desk)), 3, /not logged in/);
  });
});
