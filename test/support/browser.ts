import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const CHROMIUM = process.env.KEEPER_CHROMIUM ?? '/usr/bin/chromium';
const REPO = join(import.meta.dirname, '..', '..');
export const ARTIFACTS = join(REPO, 'test-artifacts', 'web');

let built: Promise<void> | undefined;

/** The page as the agent serves it, built once per test run from the sources (dist/web), so a test never runs an old build. */
export function builtPage(): Promise<void> {
  // In a process of its own: Vite's bundler keeps state that a test process should not carry.
  built ??= promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'build-web.ts')], { cwd: REPO }).then(() => undefined);
  return built;
}

/**
 * Headless Chromium. CI installs it (.ci/run); a machine without it fails here with a sentence,
 * unless KEEPER_NO_BROWSER=1 says to leave the browser tests out.
 */
export async function launchBrowser(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.KEEPER_NO_BROWSER === '1') return undefined;
    throw new Error(`the web page's tests need Chromium at ${CHROMIUM} (apt-get install -y chromium, or KEEPER_CHROMIUM=path); set KEEPER_NO_BROWSER=1 to leave them out`);
  }
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors, CSP violations and any request to another origin, as they happen. */
  problems: string[];
}

/** A page in a context of its own (its own cookies), watched for what must never happen. */
export async function openPage(browser: Browser, base: string, viewport = { width: 1280, height: 800 }, context?: BrowserContext): Promise<WatchedPage> {
  const ctx = context ?? (await browser.newContext({ viewport, baseURL: base }));
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await ctx.newPage();
  const problems: string[] = [];
  const origin = new URL(base).origin;
  page.on('console', (message) => {
    // (Chrome logs every failed request itself; what the page makes of one is for the tests to check.)
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource:')) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.protocol !== 'blob:' && url.protocol !== 'data:') problems.push(`request to another origin: ${url.origin}`);
  });
  await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));" });
  return { page, context: ctx, problems };
}
