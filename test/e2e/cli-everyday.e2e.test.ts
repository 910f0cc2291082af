import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { TOTP } from 'otpauth';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { expectSentence, keeper } from '../support/cli.js';

const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

/** `keeper code`, `keeper generate` and the strength told on save, through the real command and server. */
describe('keeper CLI: one-time codes, the generator, strength on save', function () {
  this.timeout(120_000);
  let server: TestServer;
  let home: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer(pgliteTarget);
    home = await mkdtemp(join(tmpdir(), 'keeper-cli-everyday-'));
    env = { KEEPER_SERVER: server.address, KEEPER_HOME: home };
    expect((await keeper(['register', '--login', 'coder'], env, 'correct horse battery\n')).code).to.equal(0);
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('prints the current code of a one-time-code field and the seconds it has left', async () => {
    expect((await keeper(['add', 'Forge', '--kind', 'login', '--totp', `otp=${TOTP_SECRET}`], env)).code).to.equal(0);
    const before = Date.now();
    const run = await keeper(['code', 'forge'], env);
    const after = Date.now();
    expect(run.code, run.stderr).to.equal(0);
    const code = run.stdout.trim();
    // The code of the step the command ran in (it may have crossed into the next one meanwhile).
    const totp = new TOTP({ secret: TOTP_SECRET });
    expect([totp.generate({ timestamp: before }), totp.generate({ timestamp: after })]).to.include(code);
    expect(run.stderr).to.match(/^Forge: valid for ([1-9]|[12]\d|30) more seconds?\n$/);
    expect(run.stdout).to.not.contain(TOTP_SECRET);
    const json = JSON.parse((await keeper(['code', 'forge', '--json'], env)).stdout);
    expect(json).to.include({ field: 'otp', period: 30, digits: 6 });
    expect(json.code).to.match(/^\d{6}$/);
  });

  it('says why there is no code to give', async () => {
    expect((await keeper(['add', 'Plain', '--field', 'user=me'], env)).code).to.equal(0);
    expectSentence(await keeper(['code', 'plain'], env), 4, /record "Plain" has no one-time-code field/);
    expectSentence(await keeper(['code', 'forge', '--field', 'nope'], env), 4, /has no one-time-code field "nope" \(it has "otp"\)/);
  });

  it('generates a password or a passphrase: the value alone on stdout, its entropy on stderr', async () => {
    const password = await keeper(['generate'], env);
    expect(password.code, password.stderr).to.equal(0);
    expect(password.stdout).to.match(/^\S{20}\n$/);
    expect(password.stderr).to.equal('password: 129 bits of entropy (far beyond any guessing)\n');
    const pin = await keeper(['generate', '--length', '8', '--no-lower', '--no-upper', '--no-symbols', '--avoid-look-alikes'], env);
    expect(pin.stdout).to.match(/^[2-9]{8}\n$/);
    const phrase = await keeper(['generate', '--words', '5', '--separator', ' ', '--capitalise'], env);
    expect(phrase.stdout).to.match(/^([A-Z][a-z-]+ ){4}[A-Z][a-z-]+\n$/);
    expect(phrase.stderr).to.contain('passphrase: 64 bits of entropy');
    const json = JSON.parse((await keeper(['generate', '--passphrase', '--json'], env)).stdout);
    expect(json).to.include({ kind: 'passphrase', entropyBits: 77.5 });
    // No session is needed: the generator works before login and offline.
    const elsewhere = await keeper(['generate'], { KEEPER_SERVER: '127.0.0.1:9', KEEPER_HOME: home });
    expect(elsewhere.code, elsewhere.stderr).to.equal(0);
    expectSentence(await keeper(['generate', '--length', '3'], env), 2, /the length must be a whole number from 4 to 128/);
    expectSentence(await keeper(['generate', '--length', 'ten'], env), 2, /--length ten: must be a whole number/);
    expectSentence(await keeper(['generate', '--no-lower', '--no-upper', '--no-digits', '--no-symbols'], env), 2, /at least one kind of character/);
  });

  it('tells the strength of a password on save, never refusing it; --generate fills a field with a new one', async () => {
    const weak = await keeper(['add', 'Weak', '--kind', 'login', '--secret', 'password=password1'], env);
    expect(weak.code, weak.stderr).to.equal(0);
    expect(weak.stdout).to.contain('added');
    expect(weak.stderr).to.match(/strength of password: very weak \(0\/4\), guessed in .+ by an offline attacker\./);
    expect(weak.stderr).to.not.contain('password1');
    const made = await keeper(['add', 'Made', '--kind', 'login', '--generate', 'password'], env);
    expect(made.code, made.stderr).to.equal(0);
    expect(made.stderr).to.contain('password is a new random password, 129 bits of entropy');
    expect(made.stderr).to.match(/strength of password: very strong \(4\/4\)/);
    const shown = JSON.parse((await keeper(['show', 'made', '--json', '--reveal'], env)).stdout);
    expect(shown.fields[0]).to.include({ name: 'password', sensitive: true });
    expect(shown.fields[0].value).to.have.length(20);
    expect(made.stderr).to.not.contain(shown.fields[0].value);
  });

  it('searches sensitive values only with --include-sensitive', async () => {
    expect((await keeper(['add', 'Visa', '--kind', 'card', '--secret', 'number=4111 1111 1111 1111', '--field', 'holder=Coder'], env)).code).to.equal(0);
    const hidden = await keeper(['search', '4111'], env);
    expect(hidden.code, hidden.stderr).to.equal(0);
    expect(hidden.stdout).to.contain('nothing matches "4111" (sensitive values are not searched; add --include-sensitive)');
    const found = await keeper(['search', '4111', '--include-sensitive'], env);
    expect(found.stdout).to.match(/Visa\s+field number/);
    expect(found.stdout).to.not.contain('4111 1111');
    expect((await keeper(['search', 'coder'], env)).stdout).to.match(/Visa\s+field holder/);
  });

  it('reads a note of many lines from standard input or the editor, and history says what changed', async () => {
    const added = await keeper(['add', 'Diary', '--kind', 'note', '--stdin', 'text'], env, 'dear diary,\nline two\n');
    expect(added.code, added.stderr).to.equal(0);
    expect(JSON.parse((await keeper(['show', 'diary', '--json'], env)).stdout).fields).to.deep.equal([{ name: 'text', value: 'dear diary,\nline two', sensitive: false }]);
    // An editor that adds a line to what it is given, as a person would.
    const editor = join(home, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nprintf "line three\\n" >> "$1"\n', { mode: 0o755 });
    const edited = await keeper(['edit', 'diary', '--editor', 'text', '--secret', 'pin=1234'], { ...env, EDITOR: editor });
    expect(edited.code, edited.stderr).to.equal(0);
    const note = JSON.parse((await keeper(['show', 'diary', '--json', '--reveal'], env)).stdout);
    expect(note.fields[0].value).to.equal('dear diary,\nline two\nline three');
    expect((await keeper(['edit', 'diary', '--secret', 'pin=9999', '--tag', 'private'], env)).code).to.equal(0);

    const history = await keeper(['history', 'diary'], env);
    expect(history.code, history.stderr).to.equal(0);
    expect(history.stdout).to.contain('what changed');
    expect(history.stdout, history.stdout).to.match(/ \d+ {2}created; text: added "dear diary,\\nline two"/);
    expect(history.stdout).to.match(/ \d+ {2}text: "dear diary,\\nline two" -> "dear diary,\\nline two\\nline three"; pin: added \*{8}/);
    expect(history.stdout).to.match(/ \d+ {2}tags: \+private; pin: \*{8} -> \*{8}/);
    expect(history.stdout).to.not.contain('9999');
    const revealed = await keeper(['history', 'diary', '--reveal'], env);
    expect(revealed.stdout).to.contain('pin: "1234" -> "9999"');
    const json = JSON.parse((await keeper(['history', 'diary', '--json'], env)).stdout);
    expect(json.at(-1).changes).to.deep.include({ what: 'field', field: 'pin', change: 'changed', before: '********', after: '********' });
    expectSentence(await keeper(['edit', 'diary', '--editor', 'text'], { ...env, EDITOR: 'false' }), 1, /the editor \(false\) exited with status 1; nothing changed/);
  });
});
