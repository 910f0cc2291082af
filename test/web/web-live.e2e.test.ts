import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';
import { MemoryReplicaStore } from '../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';
import { builtPage, launchBrowser, openPage, type WatchedPage } from '../support/browser.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createRecord, PASSWORD, pageText, registerThroughPage, waitForListed } from './support.js';

const SECRET = 'lantern orbit cobble ferry';
const PLAIN = 'zebra-quartz-41';

describe('the web page, live: other tabs, other devices, outages, encryption and the idle lock (Chromium)', function () {
  // A browser, an agent and a server on a machine that may be busy: scrypt and bcrypt alone take seconds there.
  this.timeout(120_000);
  let server: TestServer;
  let proxy: TcpProxy;
  let agent: TestAgent;
  let browser: Browser | undefined;
  const pages: WatchedPage[] = [];
  before(async function () {
    browser = await launchBrowser();
    if (!browser) return this.skip();
    await builtPage();
    server = await startTestServer(pgliteTarget);
    // The agent reaches the server through a relay the tests can cut; other devices go direct.
    proxy = await startTcpProxy(server.address);
    agent = await startTestAgent(proxy.address, { timeout: 2_000 });
  });
  after(async () => {
    await browser?.close();
    await agent?.close();
    await proxy?.close();
    await server?.close();
  });
  afterEach(async () => {
    proxy?.mend();
    const problems = pages.flatMap((p) => p.problems);
    for (const p of pages.splice(0)) await p.context.close().catch(() => undefined);
    expect(problems).to.deep.equal([]);
  });

  const register = async (base = agent.base) => {
    const user = await registerThroughPage(browser!, base);
    pages.push(user);
    return user;
  };

  /** Another device of the user, syncing with the server directly. */
  async function device(login: string): Promise<SyncEngine> {
    const client = await server.client();
    const session = await client.login(login, PASSWORD);
    return SyncEngine.open({ transport: grpcVaultTransport(client), store: new MemoryReplicaStore(), userId: session.userId, clientId: 'other-device' });
  }

  const statusText = (page: Page) => page.locator('#sync-status').innerText();

  it("shows each tab's changes in the other, and another device's, live (no reload)", async () => {
    const { page: first, context, login } = await register();
    const second = await context.newPage();
    await second.goto('/');
    await second.locator('#sync-status').waitFor();

    await first.getByRole('button', { name: 'New record' }).click();
    await first.getByLabel('Name', { exact: true }).fill('From the first tab');
    await first.getByLabel('Value of user').fill('ann');
    await first.getByRole('button', { name: 'Save' }).click();
    await waitForListed(second, ['From the first tab']);

    await second.locator('#record-list .record-row').first().click();
    await first.locator('#record-list .record-row').first().click();
    await second.getByRole('button', { name: 'Edit' }).click();
    await second.getByLabel('Value of user').fill('changed in the second tab');
    await second.getByRole('button', { name: 'Save' }).click();
    await first.locator('[data-field="user"]', { hasText: 'changed in the second tab' }).waitFor({ timeout: 5_000 });

    const phone = await device(login);
    await phone.sync();
    const started = Date.now();
    await phone.create({ kind: 'note', name: 'From the phone', fields: [] });
    await phone.sync();
    await waitForListed(first, ['From the first tab', 'From the phone']);
    await waitForListed(second, ['From the first tab', 'From the phone']);
    expect(Date.now() - started).to.be.below(3_000);
    expect(await statusText(first)).to.match(/^● online · version \d+ · 0 waiting · synced /);
  });

  it('says when the server is out of reach, keeps edits waiting, sends them when it is back, and keeps a conflicting edit as a copy', async () => {
    const { page, login, token } = await register();
    const id = await createRecord(agent.base, token, { kind: 'login', name: 'Router', fields: [{ name: 'user', value: 'admin', sensitive: false }] });
    await waitForListed(page, ['Router']);
    const phone = await device(login);
    await phone.sync();

    proxy.cut();
    await page.getByRole('button', { name: 'Sync now' }).click();
    // The answer to Sync now, or the agent's own news of the outage, whichever comes last.
    await page.locator('#notice-error', { hasText: /cannot reach the Keeper server|the Keeper server cannot be reached/i }).waitFor({ timeout: 10_000 });
    await page.locator('#sync-status[data-state="offline"]').waitFor({ timeout: 10_000 });

    // Edited here while the server is away, and on the phone meanwhile: the same field.
    await page.locator('#record-list .record-row').first().click();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Value of user').fill('edited in the page');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved the changes to "Router" here; they are sent to the server when it can be reached.').waitFor({ timeout: 10_000 });
    expect(await page.locator('#sync-pending').innerText()).to.equal('1 waiting');
    await phone.update(id, { setFields: [{ name: 'user', value: 'edited on the phone', sensitive: false }] });
    await phone.sync();

    proxy.mend();
    await page.locator('#sync-status[data-state="online"]').waitFor({ timeout: 15_000 });
    await page.locator('#notice-error', { hasText: 'yours is saved as a conflict copy' }).waitFor({ timeout: 15_000 });
    await page.locator('#record-list .badge.conflict').waitFor();
    expect(await page.locator('#sync-pending').innerText()).to.equal('0 waiting');
    await page.locator('[data-field="user"]', { hasText: 'edited on the phone' }).waitFor();
    await page.locator('#record-list .record-row', { has: page.locator('.badge.conflict') }).click();
    await page.getByText('This is a conflict copy').waitFor();
    await page.locator('[data-field="user"]', { hasText: 'edited in the page' }).waitFor();
  });

  it('asks for the secret word at every load, shows nothing of the vault before, and wipes it on lock', async () => {
    const { page, login, token, context } = await register();
    const phone = await device(login);
    await phone.sync();
    await phone.enableEncryption(SECRET);
    await phone.sync();
    expect((await call(agent.base, 'POST', '/v1/sync', { token })).status).to.equal(200);
    expect((await call(agent.base, 'POST', '/v1/unlock', { token, body: { secret: SECRET } })).status).to.equal(204);
    await createRecord(agent.base, token, { kind: 'login', name: 'Hidden bank', fields: [{ name: 'pin', value: PLAIN, sensitive: true }], sealAll: true } as never);

    // The agent holds the key (another caller unlocked it), yet this page asks for the word.
    await page.reload();
    await page.getByRole('heading', { name: `Unlock ${login}'s vault` }).waitFor();
    for (const secret of ['Hidden bank', PLAIN]) expect(await pageText(page)).to.not.contain(secret);
    await page.getByLabel('Secret word').fill('not the word at all');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('#unlock-error', { hasText: /secret word/i }).waitFor();
    expect(await page.getByLabel('Secret word').inputValue()).to.equal('');
    await page.getByLabel('Secret word').fill(SECRET);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await waitForListed(page, ['Hidden bank']);
    expect(await page.locator('#lock-state').innerText()).to.equal('unlocked');
    await page.locator('#record-list .record-row').first().click();
    await page.getByRole('button', { name: 'Reveal pin' }).click();
    await page.locator('[data-field="pin"]', { hasText: PLAIN }).waitFor();

    // A second tab of the same browser is asked too; locking in one locks the other.
    const other = await context.newPage();
    await other.goto('/');
    await other.getByRole('heading', { name: `Unlock ${login}'s vault` }).waitFor();
    expect(await pageText(other)).to.not.contain('Hidden bank');
    await page.getByRole('button', { name: 'Lock' }).click();
    await page.getByRole('heading', { name: `Unlock ${login}'s vault` }).waitFor();
    for (const secret of ['Hidden bank', PLAIN]) expect(await pageText(page)).to.not.contain(secret);
    expect((await call(agent.base, 'GET', '/v1/status', { token })).body.unlocked).to.equal(false);
  });

  it('locks itself after the idle time: an encrypted vault asks for the word again, one without encryption clears the screen', async () => {
    const idle = await startTestAgent(server.address, { idleLockMinutes: 0.05 });
    try {
      const plain = await register(idle.base);
      await createRecord(idle.base, plain.token, { kind: 'note', name: 'Groceries', fields: [] });
      await plain.page.reload();
      await waitForListed(plain.page, ['Groceries']);
      await plain.page.getByText('Locked after 3 seconds without use.').waitFor({ timeout: 8_000 });
      expect(await pageText(plain.page)).to.not.contain('Groceries');
      await plain.page.getByRole('button', { name: 'Go on' }).click();
      await waitForListed(plain.page, ['Groceries']);

      const sealed = await register(idle.base);
      const phone = await device(sealed.login);
      await phone.sync();
      await phone.enableEncryption(SECRET);
      await phone.create({ kind: 'login', name: 'Vault door', fields: [{ name: 'code', value: PLAIN, sensitive: true }] });
      await phone.sync();
      await sealed.page.reload();
      await sealed.page.getByLabel('Secret word').fill(SECRET);
      await sealed.page.getByRole('button', { name: 'Unlock' }).click();
      await waitForListed(sealed.page, ['Vault door']);
      await sealed.page.getByRole('heading', { name: /^Unlock / }).waitFor({ timeout: 8_000 });
      expect(await sealed.page.locator('#unlock-screen [role="status"]').innerText()).to.match(/^Locked after 3 seconds without use\.|^The vault was locked/);
      expect(await pageText(sealed.page)).to.not.contain(PLAIN);
    } finally {
      await idle.close();
    }
  });

  it('says when the agent itself stops answering, and asks to log in again when a new agent has no such session', async () => {
    const lone = await startTestAgent(server.address);
    const port = lone.agent.address.split(':').at(-1);
    const { page } = await register(lone.base);
    await lone.close();
    await page.locator('#sync-state', { hasText: 'agent not answering' }).waitFor({ timeout: 20_000 });
    await page.locator('#notice-error', { hasText: 'The agent does not answer' }).waitFor({ timeout: 5_000 });
    const again = await startTestAgent(server.address, { listen: `127.0.0.1:${port}` });
    try {
      await page.getByRole('heading', { name: 'Log in' }).waitFor({ timeout: 15_000 });
      await page.getByText('Your session has ended; log in again.').waitFor();
    } finally {
      await again.close();
    }
  });
});
