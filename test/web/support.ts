import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { call } from '../support/agent.js';
import { openPage, type WatchedPage } from '../support/browser.js';

export const PASSWORD = 'correct horse battery';

export interface UserPage extends WatchedPage {
  login: string;
  /** The same user through the API (a bearer token of its own), for seeding and checking. */
  token: string;
}

/** Registers a new user through the page itself, and logs the same user in over the API beside it. */
export async function registerThroughPage(browser: Browser, base: string, viewport?: { width: number; height: number }): Promise<UserPage> {
  const watched = await openPage(browser, base, viewport);
  const login = `web-${randomUUID().slice(0, 8)}`;
  const { page } = watched;
  await page.goto('/');
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the account' }).click();
  await page.locator('#sync-status').waitFor();
  const session = await call(base, 'POST', '/v1/sessions', { body: { login, password: PASSWORD } });
  expect(session.status, session.text).to.equal(201);
  return { ...watched, login, token: session.body.token };
}

export async function createRecord(base: string, token: string, record: { kind: string; name: string; fields?: Array<{ name: string; value: string; sensitive: boolean }> }): Promise<string> {
  const answer = await call(base, 'POST', '/v1/records', { token, body: { fields: [], ...record } });
  expect(answer.status, answer.text).to.equal(201);
  return answer.body.record.id;
}

/** The names the list shows, in order. */
export async function listedNames(page: Page): Promise<string[]> {
  return page.locator('#record-list .record-name').allTextContents();
}

export async function waitForListed(page: Page, names: string[]): Promise<void> {
  await page.waitForFunction(
    (wanted) => JSON.stringify([...(globalThis as any).document.querySelectorAll('#record-list .record-name')].map((e: any) => e.textContent)) === JSON.stringify(wanted),
    names,
    { timeout: 10_000 },
  );
}

/** The whole text of the page (what a screen reader or a look at the page can find). */
export async function pageText(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as any).document.documentElement.outerHTML as string);
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A and AA rules and best practices). */
export async function seriousAxeFindings(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const violations = (await page.evaluate(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) })))",
  )) as Array<{ id: string; impact: string; help: string; nodes: string[] }>;
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join(', ')}`);
}

export async function picture(width = 640, height = 480): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A PNG whose chunks are whole (the upload takes it) but whose pixel data is garbage (the worker cannot decode it, and says so at once). */
export async function tornPicture(): Promise<Buffer> {
  const bytes = Buffer.from(await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer());
  const idat = bytes.indexOf('IDAT');
  const length = bytes.readUInt32BE(idat - 4);
  bytes.fill(0x55, idat + 4, idat + 4 + length);
  return bytes;
}
