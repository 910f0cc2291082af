import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { pgliteTarget } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { call, startTestAgent, type TestAgent } from '../support/agent.js';
import { ARTIFACTS, builtPage, launchBrowser, openPage, type WatchedPage } from '../support/browser.js';
import { createRecord, listedNames, PASSWORD, pageText, picture, registerThroughPage, seriousAxeFindings, tornPicture, waitForListed } from './support.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('the web page: every flow of the vault (Chromium, a real agent and server)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let agent: TestAgent;
  let browser: Browser | undefined;
  const pages: WatchedPage[] = [];
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
  afterEach(async () => {
    // No console error, no CSP violation, no request to another origin, in any page of the test.
    const problems = pages.flatMap((p) => p.problems);
    for (const p of pages.splice(0)) await p.context.close();
    expect(problems).to.deep.equal([]);
  });

  const register = async (viewport?: { width: number; height: number }) => {
    const user = await registerThroughPage(browser!, agent.base, viewport);
    pages.push(user);
    return user;
  };

  it('registers, logs out, refuses a wrong password with a sentence, and logs in again', async () => {
    const { page, login } = await register();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('You are logged out.').waitFor();
    // The cookie went with the session: a reload stays logged out.
    await page.reload();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('Login').fill(login);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#login-error', { hasText: 'The login or the password is wrong.' }).waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#sync-status').waitFor();
    expect(await page.locator('.who').innerText()).to.contain(login);
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }))).to.deep.equal([{ name: 'keeper_session', httpOnly: true, sameSite: 'Strict' }]);
    // The token is out of the page script's reach.
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).to.equal('');
  });

  it("creates a record from its kind's template, masks, reveals and copies (the clipboard emptied after 30 s), and edits it field by field", async () => {
    const { page, token } = await register();
    await page.clock.install();
    await page.reload();
    await page.locator('#sync-status').waitFor();
    await page.getByRole('button', { name: 'New record' }).click();
    await page.getByLabel('Kind').last().selectOption('card');
    const names = await page.locator('[id^="field-name-"]').evaluateAll((boxes) => boxes.map((b: any) => b.value));
    expect(names).to.deep.equal(['number', 'holder', 'expires', 'cvv']);
    await page.getByLabel('Kind').last().selectOption('login');
    await page.getByLabel('Name', { exact: true }).fill('Bank');
    await page.getByLabel('Value of user').fill('ann');
    await page.getByLabel('Value of password', { exact: true }).fill('pin-4321');
    expect(await page.getByLabel('Value of password', { exact: true }).getAttribute('type')).to.equal('password');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Bank' }).waitFor();
    expect(await page.locator('#notice-info').innerText()).to.equal('Saved "Bank".');
    // The url field of the template was left empty: not saved.
    expect(await page.locator('.fields dt').allTextContents()).to.deep.equal(['user', 'passwordsensitive']);
    expect(await page.locator('[data-field="password"]').innerText()).to.equal('••••••••');
    expect(await pageText(page)).to.not.contain('pin-4321');

    await page.getByRole('button', { name: 'Reveal password' }).click();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-field="password"]').textContent === 'pin-4321');
    await page.getByRole('button', { name: 'Hide password' }).click();
    expect(await page.locator('[data-field="password"]').innerText()).to.equal('••••••••');

    await page.getByRole('button', { name: 'Copy password' }).click();
    await page.getByText('Copied the value of "password". The clipboard is emptied in 30 seconds, where the browser allows it.').waitFor();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).to.equal('pin-4321');
    await page.clock.fastForward(31_000);
    await page.getByText('The clipboard was emptied, 30 seconds after copying.').waitFor();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).to.equal('');

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Value of user').waitFor();
    expect(await page.getByLabel('Value of password', { exact: true }).inputValue()).to.equal('pin-4321');
    await page.getByRole('button', { name: 'Remove user' }).click();
    await page.getByRole('button', { name: 'Add a field' }).click();
    await page.locator('[data-field-row="1"] [id^="field-name-"]').fill('recovery');
    await page.getByLabel('Value of recovery').fill('words words');
    await page.locator('[data-field-row="1"] input[type="checkbox"]').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved the changes to "Bank".').waitFor();
    const record = (await call(agent.base, 'GET', '/v1/records?q=bank', { token })).body.hits[0].record;
    const full = await call(agent.base, 'GET', `/v1/records/${record.id}?reveal=1`, { token });
    expect(full.body.record.fields).to.deep.equal([
      { name: 'password', value: 'pin-4321', sensitive: true, hidden: null, kind: 'text' },
      { name: 'recovery', value: 'words words', sensitive: true, hidden: null, kind: 'text' },
    ]);
    // Only what changed was sent: one event after the creation.
    const history = await call(agent.base, 'GET', `/v1/records/${record.id}/history`, { token });
    expect(history.body.versions.map((v: { type: string }) => v.type)).to.deep.equal(['RecordCreated', 'RecordUpdated']);
    // A form that is wrong says why, in a sentence, and saves nothing.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Name', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.locator('#form-error').innerText()).to.equal('Give the record a name.');
  });

  it('deletes after a confirmation, brings a deleted record back, and restores an old version from its history', async () => {
    const { page, token } = await register();
    const id = await createRecord(agent.base, token, { kind: 'note', name: 'Plans', fields: [{ name: 'text', value: 'first draft', sensitive: false }] });
    expect((await call(agent.base, 'PATCH', `/v1/records/${id}`, { token, body: { setFields: [{ name: 'text', value: 'second draft', sensitive: false }] } })).status).to.equal(200);
    await page.reload();
    await waitForListed(page, ['Plans']);
    await page.locator('#record-list .record-row').first().click();
    await page.getByText('second draft').waitFor();

    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('heading', { name: /^Version 1 · created/ }).waitFor();
    expect(await page.locator('.version h3').allTextContents()).to.have.length(2);
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByText('Restored "Plans" as it was at version 1.').waitFor();
    await page.locator('[data-field="text"]', { hasText: 'first draft' }).waitFor();

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this record?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await listedNames(page)).to.deep.equal(['Plans']);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted "Plans". Deleted records (u) can bring it back.').waitFor();
    await waitForListed(page, []);

    await page.getByRole('button', { name: 'Deleted records' }).click();
    await page.getByRole('button', { name: 'Restore Plans' }).click();
    await page.getByText('Restored "Plans".').waitFor();
    await waitForListed(page, ['Plans']);
    expect((await call(agent.base, 'GET', `/v1/records/${id}`, { token })).body.record.fields[0].value).to.equal('first draft');
  });

  it('searches as you type (in the agent), filters by kind, and renders a hostile name as text', async () => {
    const { page, token } = await register();
    const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    await createRecord(agent.base, token, { kind: 'login', name: 'Mail', fields: [{ name: 'user', value: 'ann@example.org', sensitive: false }] });
    await createRecord(agent.base, token, { kind: 'card', name: 'Visa', fields: [{ name: 'holder', value: 'Ann Example', sensitive: false }] });
    await createRecord(agent.base, token, { kind: 'note', name: hostile, fields: [{ name: 'text', value: '<b>bold?</b>', sensitive: false }] });
    await page.reload();
    await waitForListed(page, [hostile, 'Mail', 'Visa']);

    await page.getByLabel('Search').pressSequentially('exam');
    await waitForListed(page, ['Mail', 'Visa']);
    expect(await page.locator('#record-list .matched').allTextContents()).to.deep.equal(['found in user', 'found in holder']);
    await page.getByLabel('Kind').selectOption('card');
    await waitForListed(page, ['Visa']);
    await page.getByLabel('Kind').selectOption('');
    await page.getByLabel('Search').fill('');
    await waitForListed(page, [hostile, 'Mail', 'Visa']);

    await page.locator('#record-list .record-row').first().click();
    await page.getByRole('heading', { name: hostile }).waitFor();
    expect(await page.locator('#record-title').innerText()).to.equal(hostile);
    expect(await page.locator('[data-field="text"]').innerText()).to.equal('<b>bold?</b>');
    expect(await page.evaluate(() => (globalThis as any).pwned)).to.equal(undefined);
    expect(await page.locator('#record-title img, #record-title script, .fields b').count()).to.equal(0);
  });

  it('attaches pictures by the picker (with progress) and by dropping them, shows covers, the compact copy, the original to download, and failures with their reason', async () => {
    const { page, token, context } = await register();
    await createRecord(agent.base, token, { kind: 'note', name: 'Passport', fields: [] });
    await page.reload();
    await page.locator('#record-list .record-row').first().click();
    await page.getByRole('heading', { name: 'Pictures (0)' }).waitFor();

    // Dropped onto the record: a torn picture the server takes, and shows as processing.
    const torn = await tornPicture();
    const dataTransfer = await page.evaluateHandle(({ base64 }) => {
      const g = globalThis as any;
      const data = Uint8Array.from(g.atob(base64), (c: string) => c.charCodeAt(0));
      const transfer = new g.DataTransfer();
      transfer.items.add(new g.File([data], 'torn.png', { type: 'image/png' }));
      return transfer;
    }, { base64: torn.toString('base64') });
    await page.locator('section.images').dispatchEvent('dragover', { dataTransfer });
    await page.locator('section.images').dispatchEvent('drop', { dataTransfer });
    await page.getByText('Attached "torn.png".', { exact: false }).waitFor({ timeout: 20_000 });
    const failed = page.locator('.image', { hasText: 'torn.png' });
    const shown = await failed.locator('.image-status').innerText();
    if (shown !== 'processing') {
      // The worker gave its verdict already (sometimes it does within a second): the page shows the real failure and why.
      expect(shown).to.match(/^failed: the image could not be decoded: .+/);
    } else {
      // The worker's verdict on a torn file can take a minute (it is retried), so the agent's answer
      // is given the failure here: the page, polling while something is processing, shows its reason.
      const reason = 'the image could not be decoded: the picture data is damaged (vipspng: libpng read error)';
      await page.route('**/v1/records/*/images', async (route) => {
        const response = await route.fetch();
        const json = await response.json();
        json.images = json.images.map((image: { fileName: string }) => (image.fileName === 'torn.png' ? { ...image, status: 'failed', failure: reason } : image));
        await route.fulfill({ response, json });
      });
      await failed.locator('.image-status.failed').waitFor({ timeout: 10_000 });
      expect(await failed.locator('.image-status').innerText()).to.equal(`failed: ${reason}`);
      await page.unrouteAll();
    }

    const bytes = await picture(900, 700);
    await page.locator('#attach-input').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: bytes });
    await page.getByText('Attached "scan.png".', { exact: false }).waitFor({ timeout: 20_000 });
    const scan = page.locator('.image', { hasText: 'scan.png' });
    await scan.locator('.image-status.ready').waitFor({ timeout: 30_000 });
    await scan.locator('img.cover').waitFor();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('.image img.cover')?.naturalWidth === 120);
    expect(await scan.locator('.image-facts').innerText()).to.match(/^\d+\.\d (KB|MB) · 900×700 · ready$/);

    await scan.getByRole('button', { name: 'View scan.png' }).click();
    const viewer = page.getByRole('dialog', { name: 'scan.png' });
    await viewer.locator('img.viewer').waitFor();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('img.viewer')?.naturalWidth > 0);
    expect(await viewer.locator('img.viewer').getAttribute('src')).to.match(/\/compact$/);
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    // Esc closed the viewer only, not the record under it.
    await scan.waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), scan.getByRole('link', { name: 'Download the original of scan.png' }).click()]);
    expect(download.suggestedFilename()).to.equal('scan.png');
    expect(sha256(await readFile((await download.path())!))).to.equal(sha256(bytes));

    // Not a picture at all: refused, with the agent's sentence on the page.
    await page.locator('#attach-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just some text, not a picture at all') });
    await page.locator('#notice-error').filter({ hasText: /picture|image|JPEG|PNG/ }).waitFor();
    expect(await page.locator('#notice-error').innerText()).to.match(/^The server refused the input: .*[.)]$/);
    expect(await page.locator('.image').count()).to.equal(2);

    await scan.getByRole('button', { name: 'Remove scan.png' }).click();
    await page.getByRole('dialog', { name: 'Remove the picture?' }).getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Removed "scan.png" from this record.').waitFor();
    await page.locator('.image', { hasText: 'scan.png' }).waitFor({ state: 'detached', timeout: 10_000 });

    // A slow upload, so the progress shows.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 400_000 });
    await page.locator('#attach-input').setInputFiles({ name: 'large.png', mimeType: 'image/png', buffer: await picture(900, 700) });
    await page.locator('#upload-progress').waitFor();
    expect(await page.locator('.upload label').innerText()).to.match(/^Uploading large\.png: \d+%$/);
    await page.getByText('Attached "large.png".', { exact: false }).waitFor({ timeout: 20_000 });
    await cdp.detach();
  });
  it('works with the keyboard alone', async () => {
    const { page, login, token } = await register();
    await createRecord(agent.base, token, { kind: 'login', name: 'Alpha', fields: [{ name: 'password', value: 'alpha-pass', sensitive: true }] });
    await createRecord(agent.base, token, { kind: 'login', name: 'Beta', fields: [{ name: 'password', value: 'beta-pass', sensitive: true }] });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const focused = () => page.evaluate(() => {
      const el = (globalThis as any).document.activeElement;
      return `${el.tagName.toLowerCase()}#${el.id}`;
    });
    // Focus moves once the page has drawn what the key asked for.
    const focusLandsOn = (where: string) =>
      page.waitForFunction((want) => {
        const el = (globalThis as any).document.activeElement;
        return `${el.tagName.toLowerCase()}#${el.id}` === want;
      }, where, { timeout: 5_000 });

    // Logging in: the login box has the focus, Tab to the password, Enter.
    await focusLandsOn('input#login');
    await page.keyboard.type(login);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('#sync-status').waitFor();
    await waitForListed(page, ['Alpha', 'Beta']);

    await page.keyboard.press('/');
    await focusLandsOn('input#search');
    await page.keyboard.type('a');
    await waitForListed(page, ['Alpha', 'Beta']);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Beta' }).waitFor();
    await focusLandsOn('h2#record-title');
    await page.keyboard.press('r');
    await page.locator('[data-field="password"]', { hasText: 'beta-pass' }).waitFor();
    await page.keyboard.press('r');
    await page.locator('[data-field="password"]', { hasText: '••••••••' }).waitFor();

    await page.keyboard.press('?');
    const shortcuts = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await shortcuts.waitFor();
    expect(await shortcuts.innerText()).to.contain('deleted records');
    await page.keyboard.press('Escape');
    await shortcuts.waitFor({ state: 'detached' });

    await page.keyboard.press('e');
    await page.getByRole('heading', { name: 'Edit Beta' }).waitFor();
    await focusLandsOn('input#record-name');
    await page.keyboard.press('End');
    await page.keyboard.type(' account');
    await page.keyboard.press('Enter');
    await page.getByText('Saved the changes to "Beta account".').waitFor();

    await page.keyboard.press('d');
    await page.getByRole('dialog', { name: 'Delete this record?' }).waitFor();
    await page.keyboard.press('Enter');
    await page.getByText('Deleted "Beta account". Deleted records (u) can bring it back.').waitFor();
    await page.keyboard.press('Escape');

    await page.keyboard.press('n');
    await page.getByRole('heading', { name: 'New record' }).waitFor();
    await focusLandsOn('input#record-name');
    await page.keyboard.type('Gamma');
    await page.keyboard.press('Enter');
    await page.getByText('Saved "Gamma".').waitFor();
    await page.keyboard.press('Escape');
    await focusLandsOn('ul#record-list');
    // Esc in the search box clears it, then leaves it for the list.
    await page.keyboard.press('/');
    await page.keyboard.press('Escape');
    await waitForListed(page, ['Alpha', 'Gamma']);
    await page.keyboard.press('Escape');
    await focusLandsOn('ul#record-list');

    await page.keyboard.press('u');
    await page.getByRole('heading', { name: 'Deleted records' }).waitFor();
    await page.getByRole('button', { name: 'Restore Beta account' }).waitFor();
    await focusLandsOn('h2#deleted-title');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement.getAttribute('aria-label'))).to.equal('Restore Beta account');
    await page.keyboard.press('Enter');
    await page.getByText('Restored "Beta account".').waitFor();
  });

  it('passes an axe-core scan with no serious violation, at desktop and phone sizes, and keeps screenshots of the main screen', async () => {
    for (const [label, viewport] of [
      ['desktop', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const guest = await openPage(browser!, agent.base, viewport);
      pages.push(guest);
      await guest.page.goto('/');
      await guest.page.getByRole('heading', { name: 'Log in' }).waitFor();
      expect(await seriousAxeFindings(guest.page), `${label} login`).to.deep.equal([]);

      const { page, token } = await register(viewport);
      await createRecord(agent.base, token, { kind: 'login', name: 'Bank account', fields: [{ name: 'user', value: 'alice', sensitive: false }, { name: 'url', value: 'https://bank.example', sensitive: false }, { name: 'password', value: 'hunter2-but-longer', sensitive: true }] });
      await createRecord(agent.base, token, { kind: 'login', name: 'Home router', fields: [{ name: 'password', value: 'router-pass', sensitive: true }] });
      await createRecord(agent.base, token, { kind: 'login', name: 'Mail', fields: [{ name: 'user', value: 'alice@example.org', sensitive: false }] });
      await createRecord(agent.base, token, { kind: 'note', name: 'Shopping list', fields: [{ name: 'text', value: 'milk\neggs', sensitive: false }] });
      await createRecord(agent.base, token, { kind: 'card', name: 'Visa card', fields: [{ name: 'number', value: '4111 1111 1111 1111', sensitive: true }, { name: 'holder', value: 'Alice Example', sensitive: false }] });
      await page.reload();
      await waitForListed(page, ['Bank account', 'Home router', 'Mail', 'Shopping list', 'Visa card']);
      expect(await seriousAxeFindings(page), `${label} list`).to.deep.equal([]);
      if (label === 'desktop') {
        await page.locator('#record-list .record-row').first().click();
        await page.getByRole('heading', { name: 'Bank account' }).waitFor();
      }
      await page.screenshot({ path: join(ARTIFACTS, `main-${viewport.width}x${viewport.height}.png`) });
      if (label === 'phone') {
        // On a phone the list and the record take turns; the page is no wider than the screen.
        expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).to.be.at.most(390);
        await page.locator('#record-list .record-row').first().click();
        await page.getByRole('heading', { name: 'Bank account' }).waitFor();
        expect(await page.locator('.list-pane').isVisible()).to.equal(false);
        expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).to.be.at.most(390);
        await page.screenshot({ path: join(ARTIFACTS, `record-${viewport.width}x${viewport.height}.png`) });
        await page.getByRole('button', { name: 'Back to the list' }).click();
        await page.locator('.list-pane').waitFor();
      }
      expect(await seriousAxeFindings(page), `${label} record`).to.deep.equal([]);
      await page.getByRole('button', { name: 'New record' }).click();
      await page.getByRole('heading', { name: 'New record' }).waitFor();
      expect(await seriousAxeFindings(page), `${label} form`).to.deep.equal([]);
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Shortcuts' }).click();
      await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
      expect(await seriousAxeFindings(page), `${label} shortcuts`).to.deep.equal([]);
    }
  });
});
