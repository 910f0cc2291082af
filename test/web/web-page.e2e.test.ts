import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTestAgent, type TestAgent } from '../support/agent.js';
import { ARTIFACTS, builtPage, launchBrowser, openPage, type WatchedPage } from '../support/browser.js';

const PASSWORD = 'correct horse battery';

describe('the web page (Chromium)', function () {
  let server: TestServer;
  let agent: TestAgent;
  let browser: Browser | undefined;
  before(async function () {
    browser = await launchBrowser();
    if (!browser) return this.skip();
    await builtPage();
    server = await startTestServer(pgliteTarget);
    agent = await startTestAgent(server.address);
  });
  after(async () => {
    await browser?.close();
    await agent?.close();
    await server?.close();
  });

  async function registered(viewport?: { width: number; height: number }): Promise<WatchedPage & { login: string }> {
    const watched = await openPage(browser!, agent.base, viewport);
    const login = `web-${randomUUID().slice(0, 8)}`;
    const { page } = watched;
    await page.goto('/');
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Login').fill(login);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create the account' }).click();
    await page.locator('#sync-status').waitFor();
    return { ...watched, login };
  }

  it('registers, creates a record and shows it', async () => {
    const { page, problems } = await registered();
    await page.getByRole('button', { name: 'New record' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Mail');
    await page.getByLabel('Value of user').fill('ann@example.org');
    await page.getByLabel('Value of password', { exact: true }).fill('s3cret-mail');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Mail' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'smoke.png') });
    expect(await page.locator('[data-field="password"]').textContent()).to.equal('••••••••');
    expect(problems).to.deep.equal([]);
  });
});
