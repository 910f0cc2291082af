import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { startAgent } from '../../src/client/agent/start-agent.js';
import { loadAgentConfig } from '../../src/config/agent-config.js';
import { createLogger } from '../../src/logging.js';
import { seededRandom } from '../../src/lib/seeded-random.js';
import { openPglite } from '../../src/server/sql/pglite.js';
import { migrate } from '../../src/server/sql/migrations.js';
import { createMutation } from '../../src/wire/mutations.js';
import { WEB_OUT, buildWebPage } from '../build-web.js';
import { count } from './support/format.js';
import { percentile } from './support/load.js';
import { BENCH_PASSWORD, startBenchServer } from './support/server.js';
import { SEED_WORDS } from './support/seed-vaults.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';

const RECORDS = 10_000;
const BATCH = 500;
const LOADS = 10;
const TARGET_LOAD_MS = 1_000;
const TARGET_KEY_P99_MS = 50;
const TARGET_JS_KB = 100;
const SEED = 0x0ead_beef;
const CHROMIUM = process.env.KEEPER_CHROMIUM ?? '/usr/bin/chromium';

const ms = (value: number) => `${value.toFixed(1)} ms`;

/** A user with `records` records of word-made names and fields, pushed in batches the server takes. */
async function seedUser(ctx: BenchContext, server: Awaited<ReturnType<typeof startBenchServer>>, records: number): Promise<string> {
  const random = seededRandom(SEED + records);
  const word = () => SEED_WORDS[Math.floor(random() * SEED_WORDS.length)]!;
  const { client } = await server.client();
  const login = `web-${randomUUID().slice(0, 8)}`;
  await client.register(login, BENCH_PASSWORD);
  for (let done = 0; done < records; done += BATCH) {
    const mutations = Array.from({ length: Math.min(BATCH, records - done) }, (_, i) =>
      createMutation({
        recordId: randomUUID(),
        kind: 'login',
        name: `${word()} ${word()} ${done + i}`,
        fields: [
          { name: 'user', value: `${word()}@${word()}.example`, sensitive: false },
          { name: 'url', value: `https://${word()}.example/${word()}`, sensitive: false },
          { name: 'password', value: `${word()}-${word()}-${Math.floor(random() * 1e6)}`, sensitive: true },
        ],
      }),
    );
    await client.push({ expectedVersion: done, clientId: 'bench-setup', mutations });
  }
  client.close();
  if (records > 0) ctx.progress(`  seeded ${count(records)} records for ${login}`);
  return login;
}

/** Logs the page in as the web page does (the session cookie), from the page's own origin. */
async function logIn(page: Page, base: string, login: string): Promise<void> {
  await page.goto(base);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.evaluate(
    ({ login, password }) =>
      fetch('/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password, cookie: true }) }).then((r) => {
        if (r.status !== 201) throw new Error(`login answered ${r.status}`);
      }),
    { login, password: BENCH_PASSWORD },
  );
}

/** Milliseconds from the start of navigation until the list shows its first rows (the page is usable). */
async function timeToList(page: Page, base: string): Promise<number> {
  await page.goto(base);
  await page.locator('#record-list li').first().waitFor();
  return page.evaluate(() => performance.now());
}

async function timeToEmptyList(page: Page, base: string): Promise<number> {
  await page.goto(base);
  await page.locator('#list-count').waitFor();
  await page.waitForFunction(() => (globalThis as any).document.querySelector('#list-count')?.textContent === '0 records');
  return page.evaluate(() => performance.now());
}

/**
 * Types into the search box one key at a time; for each key, the time from the key event until
 * the list shows that query's hits and the frame after it is drawn. Beside it, the same queries
 * as bare fetches of the agent's search from the page (no drawing): the floor the page stands on.
 */
async function keyLatencies(page: Page, words: string[]): Promise<{ keys: number[]; fetches: number[] }> {
  await page.locator('#record-list li').first().waitFor();
  await page.evaluate(() => {
    const g = globalThis as any;
    const doc = g.document;
    g.__keyTimes = [];
    g.__armed = null;
    doc.addEventListener('keydown', () => (g.__armed = performance.now()), true);
    new g.MutationObserver(() => {
      const list = doc.querySelector('#record-list');
      const box = doc.querySelector('#search');
      if (g.__armed !== null && list && list.dataset.query === box.value.trim()) {
        const started = g.__armed;
        g.__armed = null;
        g.requestAnimationFrame(() => g.__keyTimes.push(performance.now() - started));
      }
    }).observe(doc.querySelector('#record-list'), { attributes: true, childList: true, subtree: true });
  });
  const fetches: number[] = [];
  for (const word of words) {
    await page.locator('#search').fill('');
    await page.locator('#record-list li').first().waitFor();
    await page.evaluate(() => ((globalThis as any).__armed = null));
    for (let i = 1; i <= word.length; i++) {
      const before = await page.evaluate(() => (globalThis as any).__keyTimes.length as number);
      await page.keyboard.press(word[i - 1]!);
      await page.waitForFunction((n) => (globalThis as any).__keyTimes.length > n, before);
      fetches.push(await page.evaluate((q) => {
        const started = performance.now();
        return fetch(`/v1/records?q=${encodeURIComponent(q)}&limit=50`).then((r) => r.json()).then(() => performance.now() - started);
      }, word.slice(0, i)));
    }
  }
  const keys = (await page.evaluate(() => (globalThis as any).__keyTimes)) as number[];
  return { keys, fetches };
}

/** Gzipped bytes of every script the built page ships. */
function shippedScript(): { js: number; css: number } {
  const assets = join(WEB_OUT, 'assets');
  let js = 0;
  let css = 0;
  for (const file of readdirSync(assets)) {
    const size = gzipSync(readFileSync(join(assets, file)), { level: 9 }).length;
    if (file.endsWith('.js')) js += size;
    if (file.endsWith('.css')) css += size;
  }
  return { js, css };
}

/**
 * The web page in Chromium over a real agent and server (PGlite) on loopback: time to the first
 * usable list of a 10,000-record vault (baseline: the same page over an empty vault), search as
 * you type key to repaint (baseline: the agent's search fetched bare from the page), and the
 * JavaScript shipped, gzipped.
 */
export const webBenchmark: Benchmark = {
  name: 'web',
  description: `the web page in Chromium: first usable list of ${count(RECORDS)} records, search key to repaint, JavaScript shipped; baselines: an empty vault, the bare search fetch`,
  needsPostgres: false,
  async run(ctx) {
    if (!existsSync(CHROMIUM)) throw new Error(`the web benchmark needs Chromium at ${CHROMIUM} (apt-get install -y chromium, or KEEPER_CHROMIUM=path)`);
    ctx.progress('building the page');
    await buildWebPage();
    const db = await openPglite();
    ctx.defer(() => db.close());
    await migrate(db);
    const server = await startBenchServer(ctx, db);
    const big = await seedUser(ctx, server, RECORDS);
    const empty = await seedUser(ctx, server, 0);
    await server.app.projector?.idle();

    const home = await mkdtemp(join(tmpdir(), 'keeper-bench-web-'));
    ctx.defer(() => rm(home, { recursive: true, force: true }));
    const agent = await startAgent(loadAgentConfig({ listen: '127.0.0.1:0', server: server.address, home }, {}), createLogger('warn', 'bench-agent'));
    ctx.defer(() => agent.stop());
    const base = `http://${agent.address}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
    ctx.defer(() => browser.close());

    const loads = async (login: string, measure: (page: Page, base: string) => Promise<number>) => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await logIn(page, base, login);
      const cold = await measure(page, base);
      const warm: number[] = [];
      for (let i = 0; i < LOADS; i++) warm.push(await measure(page, base));
      return { cold, warm, page, context };
    };
    ctx.progress('loading the page over the empty vault (baseline)');
    const emptyRun = await loads(empty, timeToEmptyList);
    await emptyRun.context.close();
    ctx.progress(`loading the page over ${count(RECORDS)} records`);
    const bigRun = await loads(big, timeToList);
    ctx.progress(`  first load (the agent opens the vault) ${ms(bigRun.cold)}; reloads p50 ${ms(percentile(bigRun.warm, 50))}`);

    ctx.progress('typing searches');
    const random = seededRandom(SEED);
    const words = Array.from({ length: 40 }, () => SEED_WORDS[Math.floor(random() * SEED_WORDS.length)]!);
    const { keys, fetches } = await keyLatencies(bigRun.page, words);
    await bigRun.context.close();
    const shipped = shippedScript();

    const loadP50 = percentile(bigRun.warm, 50);
    const emptyP50 = percentile(emptyRun.warm, 50);
    const keyP99 = percentile(keys, 99);
    const fetchP99 = percentile(fetches, 99);
    const rows: ResultRow[] = [
      {
        benchmark: `web first usable list, ${count(RECORDS)} records (p50 of ${LOADS} loads)`,
        figure: ms(loadP50),
        baseline: `${ms(emptyP50)} empty vault`,
        ratio: (loadP50 / emptyP50).toFixed(2),
        target: `<= ${TARGET_LOAD_MS} ms`,
        verdict: loadP50 <= TARGET_LOAD_MS ? 'PASS' : 'FAIL',
      },
      { benchmark: 'web first list, agent opening the vault (once)', figure: ms(bigRun.cold), baseline: `${ms(emptyRun.cold)} empty vault`, ratio: (bigRun.cold / emptyRun.cold).toFixed(2), target: '-', verdict: 'info' },
      {
        benchmark: `web search key to repaint p99 (${count(keys.length)} keys)`,
        figure: `${ms(keyP99)} (p50 ${ms(percentile(keys, 50))})`,
        baseline: `${ms(fetchP99)} bare fetch p99`,
        ratio: (keyP99 / fetchP99).toFixed(2),
        target: `<= ${TARGET_KEY_P99_MS} ms`,
        verdict: keyP99 <= TARGET_KEY_P99_MS ? 'PASS' : 'FAIL',
      },
      {
        benchmark: 'web JavaScript shipped (gzip -9)',
        figure: `${(shipped.js / 1000).toFixed(1)} KB`,
        baseline: `CSS ${(shipped.css / 1000).toFixed(1)} KB`,
        ratio: '-',
        target: `<= ${TARGET_JS_KB} KB`,
        verdict: shipped.js <= TARGET_JS_KB * 1000 ? 'PASS' : 'FAIL',
      },
    ];
    return rows;
  },
};
