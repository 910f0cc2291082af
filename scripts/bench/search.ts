import { availableParallelism, loadavg } from 'node:os';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { foldCase, SearchIndex, type SearchableRecord, type SearchResult } from '../../src/client/search/index.js';
import { count, ratio, seconds } from './support/format.js';
import { percentile } from './support/load.js';
import type { Benchmark, BenchContext, ResultRow } from './types.js';
import { seededRandom } from '../../src/lib/seeded-random.js';

const RECORDS = 100_000;
const FIELDS = 8;
const QUERIES = 1000;
/** Queries run before the measured ones (JIT warm-up), not counted. */
const WARMUP_QUERIES = 200;
/** Hits asked for, as a UI list would; `total` is exact whatever the limit. */
const LIMIT = 50;
const TARGET_P99_MS = 10;
/** The naive scan runs (and is checked against the index) on the first this-many queries of each set. */
const BASELINE_QUERIES = 200;
const UPDATES = 1000;
const REMOVES = 200;
const SEED = 0x5eed_cafe;

/**
 * SearchIndex over 100,000 generated records of 8 fields: build time and memory, then p50 / p99
 * latency of 1,000 random substring queries (3–8 characters, and 1–2 characters as a second row),
 * against a naive linear scan (pre-lower-cased strings, `includes` on every part of every record,
 * then the same ranking) in the same run on the first 200 queries of each set, whose results must
 * be identical to the index's.
 */
export const searchBenchmark: Benchmark = {
  name: 'search',
  description: `in-memory SearchIndex: ${count(QUERIES)} substring queries over ${count(RECORDS)} records x ${FIELDS} fields; baseline: naive linear scan`,
  needsPostgres: false,
  async run(ctx) {
    const gc = exposeGc();
    const random = seededRandom(SEED);
    ctx.progress(`generating ${count(RECORDS)} records (seed ${SEED.toString(16)})`);
    const records: BenchRecord[] = Array.from({ length: RECORDS }, () => generateRecord(random));
    const chars = records.reduce((sum, r) => sum + r.name.length + r.fields.reduce((s, f) => s + f.name.length + f.value.length, 0), 0);
    ctx.progress(`  ${count(chars)} characters of text (${(chars / RECORDS).toFixed(0)} per record)`);

    // --- Build, with the heap growth it causes.
    gc();
    const before = memory();
    let started = performance.now();
    const buildCpu = process.cpuUsage();
    const index = SearchIndex.build(records);
    const buildMs = performance.now() - started;
    const buildCpuMs = cpuMs(buildCpu);
    gc();
    const indexMemory = memory() - before;
    const stats = index.stats();
    ctx.progress(
      `  SearchIndex.build: ${seconds(buildMs)} (CPU ${seconds(buildCpuMs)}); heap + array buffers +${mib(indexMemory)} ` +
        `(typed arrays ${mib(stats.indexBytes)}, of which posting lists ${mib(stats.postingBytes)}; folded text ${count(stats.textChars)} chars)`,
    );

    started = performance.now();
    const naive = new NaiveScan(records);
    const naiveBuildMs = performance.now() - started;
    ctx.progress(`  baseline: lower-cased every part once in ${seconds(naiveBuildMs)}`);

    const long = sampleQueries(records, random, QUERIES, 3, 8);
    const short = sampleQueries(records, random, QUERIES, 1, 2);
    const rows: ResultRow[] = [];
    for (const [label, queries] of [
      ['3-8 chars', long],
      ['1-2 chars', short],
    ] as const) {
      ctx.progress(`${count(QUERIES)} queries of ${label}, limit ${LIMIT} (after ${WARMUP_QUERIES} warm-up queries)`);
      const measured = timeQueries(index, queries, ctx);
      const baseline = timeBaseline(naive, queries, index, ctx);
      const p99 = percentile(measured.latencies, 99);
      const baseP99 = percentile(baseline, 99);
      rows.push({
        benchmark: `search p50/p99 (${count(RECORDS)} records, ${label})`,
        figure: `${ms(percentile(measured.latencies, 50))} / ${ms(p99)} (CPU p99 ${ms(percentile(measured.cpu, 99))}; avg ${count(measured.matches / queries.length)} matches)`,
        baseline: `${ms(percentile(baseline, 50))} / ${ms(baseP99)} naive scan (${baseline.length} queries)`,
        ratio: ratio(baseP99 / p99),
        target: `p99 <= ${TARGET_P99_MS} ms`,
        verdict: label === '3-8 chars' ? (p99 <= TARGET_P99_MS ? 'PASS' : 'FAIL') : 'info',
      });
    }

    rows.push({
      benchmark: `search build (${count(RECORDS)} records)`,
      figure: `${seconds(buildMs)} (CPU ${seconds(buildCpuMs)}), +${mib(indexMemory)} heap`,
      baseline: `${seconds(naiveBuildMs)} lower-casing`,
      ratio: '-',
      target: '-',
      verdict: 'info',
    });

    rows.push(incremental(index, records, random, long, ctx));
    return rows;
  },
};

// --- Measuring --------------------------------------------------------------------------------

/** Wall-clock latency of each query (what a user waits), and the CPU time it used (less sensitive to a busy machine). */
function timeQueries(index: SearchIndex, queries: readonly string[], ctx: BenchContext): { latencies: number[]; cpu: number[]; matches: number } {
  for (let i = 0; i < WARMUP_QUERIES; i++) index.search(queries[i % queries.length]!.slice(0, -1) || 'a', { limit: LIMIT });
  const latencies: number[] = [];
  const cpu: number[] = [];
  let matches = 0;
  for (const query of queries) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = index.search(query, { limit: LIMIT });
    latencies.push(performance.now() - started);
    cpu.push(cpuMs(cpuBefore));
    matches += result.total;
  }
  const worst = latencies.indexOf(Math.max(...latencies));
  ctx.progress(
    `  SearchIndex: p50 ${ms(percentile(latencies, 50))}, p90 ${ms(percentile(latencies, 90))}, p99 ${ms(percentile(latencies, 99))}, ` +
      `max ${ms(latencies[worst]!)} ("${queries[worst]}"); CPU time p50 ${ms(percentile(cpu, 50))}, p99 ${ms(percentile(cpu, 99))}; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
  );
  return { latencies, cpu, matches };
}

/** The naive scan over the same queries; its results are checked against the index's. */
function timeBaseline(naive: NaiveScan, queries: readonly string[], index: SearchIndex, ctx: BenchContext): number[] {
  const latencies: number[] = [];
  for (let i = 0; i < Math.min(queries.length, BASELINE_QUERIES); i++) {
    const query = queries[i]!;
    const started = performance.now();
    const expected = naive.search(query, LIMIT);
    latencies.push(performance.now() - started);
    const actual = index.search(query, { limit: LIMIT });
    if (!sameResult(actual, expected)) throw new Error(`SearchIndex and the naive scan disagree on "${query}"`);
    if ((i + 1) % 50 === 0) ctx.progress(`  naive scan: ${i + 1}/${BASELINE_QUERIES} queries`);
  }
  ctx.progress(`  naive scan (first ${latencies.length} queries): p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}; results identical to the index's`);
  return latencies;
}

/** Upserts and removes one at a time, queries over the overlay, then the rebuild. */
function incremental(index: SearchIndex, records: BenchRecord[], random: () => number, queries: readonly string[], ctx: BenchContext): ResultRow {
  ctx.progress(`incremental: ${count(UPDATES)} upserts (renamed / edited records) and ${count(REMOVES)} removes`);
  const ops: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const at = Math.floor(random() * records.length);
    const old = records[at]!;
    const changed = { ...old, name: `${old.name} ${pick(random, WORDS)}`, fields: old.fields.map((f, k) => (k === 0 ? { ...f, value: `${f.value}x` } : f)) };
    records[at] = changed;
    const started = performance.now();
    index.upsert(changed);
    ops.push(performance.now() - started);
  }
  for (let i = 0; i < REMOVES; i++) {
    const at = Math.floor(random() * records.length);
    const started = performance.now();
    index.remove(records[at]!.id);
    ops.push(performance.now() - started);
    records.splice(at, 1);
  }
  const stats = index.stats();
  const latencies: number[] = [];
  const cpu: number[] = [];
  for (const query of queries) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    index.search(query, { limit: LIMIT });
    latencies.push(performance.now() - started);
    cpu.push(cpuMs(cpuBefore));
  }
  const naive = new NaiveScan(records);
  for (const query of queries.slice(0, 50)) {
    if (!sameResult(index.search(query, { limit: LIMIT }), naive.search(query, LIMIT))) throw new Error(`stale or missing results for "${query}" after changes`);
  }
  const started = performance.now();
  const compactCpu = process.cpuUsage();
  index.compact();
  const compactMs = performance.now() - started;
  const compactCpuMs = cpuMs(compactCpu);
  ctx.progress(
    `  per change: p50 ${ms(percentile(ops, 50))}, p99 ${ms(percentile(ops, 99))}; overlay ${count(stats.overlay)}, tombstones ${count(stats.tombstones)}; ` +
      `queries p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))} (CPU p99 ${ms(percentile(cpu, 99))}); results checked; ` +
      `compact() ${seconds(compactMs)} (CPU ${seconds(compactCpuMs)})`,
  );
  return {
    benchmark: `search after ${count(UPDATES + REMOVES)} changes (overlay)`,
    figure: `p99 ${ms(percentile(latencies, 99))}/query (CPU ${ms(percentile(cpu, 99))}); ${ms(percentile(ops, 99))}/change; rebuild ${seconds(compactMs)}`,
    baseline: '-',
    ratio: '-',
    target: '-',
    verdict: 'info',
  };
}

function sameResult(actual: SearchResult, expected: SearchResult): boolean {
  return actual.total === expected.total && JSON.stringify(actual.hits) === JSON.stringify(expected.hits);
}

interface NaiveRow {
  id: string;
  name: string;
  key: string;
  fields: Array<{ name: string; folded: string; value: string }>;
}

/** The baseline: every part lower-cased (folded) once, then `includes` on all of them per query. */
class NaiveScan {
  private readonly rows: NaiveRow[];

  constructor(records: readonly SearchableRecord[]) {
    this.rows = records.map((r) => ({
      id: r.id,
      name: r.name,
      key: foldCase(r.name),
      fields: (r.fields ?? []).map((f) => ({ name: f.name, folded: foldCase(f.name), value: foldCase(f.value ?? '') })),
    }));
  }

  search(query: string, limit: number): SearchResult {
    const q = foldCase(query);
    const found: Array<{ rank: number; row: NaiveRow; field?: string }> = [];
    for (const row of this.rows) {
      const at = row.key.indexOf(q);
      if (at >= 0) {
        found.push({ rank: at === 0 ? 0 : 1, row });
        continue;
      }
      const field = row.fields.find((f) => f.folded.includes(q) || f.value.includes(q));
      if (field) found.push({ rank: 2, row, field: field.name });
    }
    found.sort((a, b) => a.rank - b.rank || cmp(a.row.key, b.row.key) || cmp(a.row.name, b.row.name) || cmp(a.row.id, b.row.id));
    return {
      total: found.length,
      hits: found.slice(0, limit).map((f) => (f.rank < 2 ? { id: f.row.id, matched: 'name' } : { id: f.row.id, matched: 'field', field: f.field! })),
    };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// --- Data -------------------------------------------------------------------------------------


function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function int(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

const WORDS = (
  'account access alpha amber anchor apple archive atlas autumn bank basket beacon berry binary bird blue bridge ' +
  'budget cable camera canvas card castle cedar central chase cinema cloud coast coffee comet copper coral cottage ' +
  'credit crystal daily delta desert digital dinner doctor dragon dream eagle east echo electric ember energy ' +
  'family farm fast field finance fire forest fox frost garden gate giant glass global gold green harbor health ' +
  'home honey horizon hotel insurance iron island jade journal jungle kitchen lake laser legal library light lime ' +
  'lunar maple market media metro mint mobile moon mountain music nature network north nova ocean office olive ' +
  'orange orbit paper park pearl pepper phone pixel planet plaza point post power prime quantum quick radio rain ' +
  'rapid red river rocket royal ruby safe salt school sea secure shadow shield shop silver simple sky smart snow ' +
  'solar south spark spring star stone storm studio summit sun swift tango taxi tiger tower travel tree true union ' +
  'urban valley vector velvet video vista voice wallet water wave west wild wind wolf wood world yellow zen zone'
).split(' ');
const FIRST = 'james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan joseph jessica thomas sarah charles karen'.split(' ');
const LAST = 'smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin'.split(' ');
const UNICODE_NAMES = ['Müller', 'Café', 'Straße', 'Zürich', 'São Paulo', 'Kraków', 'Ελλάδα', 'ΟΔΟΣ', '東京', 'İstanbul', 'Ærø', 'Öffnungszeiten', 'Москва', 'Crème brûlée'];
const TLDS = ['com', 'org', 'net', 'io', 'de', 'co.uk', 'fr'];
const MAILS = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'icloud.com'];
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SYMBOLS = `${ALNUM}!#$%&*+-=?@^_`;

function chars(random: () => number, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

function digits(random: () => number, length: number): string {
  return chars(random, '0123456789', length);
}

function capitalize(word: string): string {
  return word[0]!.toUpperCase() + word.slice(1);
}

function words(random: () => number, n: number): string {
  return Array.from({ length: n }, () => pick(random, WORDS)).join(' ');
}

function uuid(random: () => number): string {
  const hex = chars(random, '0123456789abcdef', 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

interface BenchRecord {
  id: string;
  name: string;
  fields: Array<{ name: string; value: string; sensitive: boolean }>;
}

function generateRecord(random: () => number): BenchRecord {
  const brand = `${pick(random, WORDS)}${random() < 0.5 ? pick(random, WORDS) : ''}`;
  const domain = `${brand}.${pick(random, TLDS)}`;
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  let name = random() < 0.3 ? domain : `${capitalize(brand)} ${capitalize(pick(random, WORDS))}`;
  if (random() < 0.05) name = `${pick(random, UNICODE_NAMES)} ${name}`;
  if (random() < 0.05) name = name.toUpperCase();
  const roll = random();
  const f = (fieldName: string, value: string, sensitive = false) => ({ name: fieldName, value, sensitive });
  let fields;
  if (roll < 0.55) {
    fields = [
      f('username', random() < 0.5 ? `${first}.${last}${int(random, 1, 99)}` : `${first[0]}${last}`),
      f('password', chars(random, SYMBOLS, int(random, 12, 24)), true),
      f('email', `${first}.${last}@${pick(random, MAILS)}`),
      f('url', `https://www.${domain}/${pick(random, ['login', 'signin', 'account', 'auth/sso'])}?ref=${digits(random, 4)}`),
      f('notes', `${capitalize(words(random, int(random, 4, 12)))}.`),
      f('security question', `What is your favourite ${pick(random, WORDS)}?`),
      f('answer', capitalize(pick(random, WORDS)), true),
      f('totp', chars(random, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16), true),
    ];
  } else if (roll < 0.75) {
    fields = [
      f('cardholder', `${capitalize(first)} ${capitalize(last)}`),
      f('number', `${digits(random, 4)} ${digits(random, 4)} ${digits(random, 4)} ${digits(random, 4)}`, true),
      f('expiry', `${String(int(random, 1, 12)).padStart(2, '0')}/${int(random, 25, 32)}`),
      f('cvv', digits(random, 3), true),
      f('pin', digits(random, 4), true),
      f('bank', `${capitalize(pick(random, WORDS))} Bank`),
      f('phone', `+1 ${digits(random, 3)} ${digits(random, 3)} ${digits(random, 4)}`),
      f('notes', `${capitalize(words(random, int(random, 3, 8)))}.`),
    ];
  } else if (roll < 0.9) {
    fields = [
      f('body', `${capitalize(words(random, int(random, 20, 60)))}.`),
      f('tags', words(random, 3).replaceAll(' ', ', ')),
      f('author', `${first}@${domain}`),
      f('link', `https://${domain}/notes/${digits(random, 6)}`),
      f('reference', uuid(random)),
      f('amount', `${int(random, 1, 9999)}.${digits(random, 2)} EUR`),
      f('location', `${int(random, 1, 300)} ${capitalize(pick(random, WORDS))} Street`),
      f('date', `20${int(random, 10, 25)}-${String(int(random, 1, 12)).padStart(2, '0')}-${String(int(random, 1, 28)).padStart(2, '0')}`),
    ];
  } else {
    fields = Array.from({ length: FIELDS }, (_, i) =>
      f(`${pick(random, WORDS)} ${i}`, random() < 0.5 ? words(random, int(random, 1, 5)) : `${pick(random, WORDS)}-${digits(random, int(random, 3, 10))}`, random() < 0.3),
    );
  }
  // A sealed value the caller could not decrypt arrives empty.
  if (random() < 0.02) fields[1]!.value = '';
  return { id: uuid(random), name, fields };
}

/** Substrings of `min`..`max` characters of random records' names and field values, as typed. */
function sampleQueries(records: readonly BenchRecord[], random: () => number, n: number, min: number, max: number): string[] {
  const queries: string[] = [];
  while (queries.length < n) {
    const record = pick(random, records);
    const text = random() < 0.3 ? record.name : pick(random, record.fields).value;
    const length = int(random, min, max);
    if (text.length < length) continue;
    const start = int(random, 0, text.length - length);
    queries.push(text.slice(start, start + length));
  }
  return queries;
}

// --- Formatting and memory ----------------------------------------------------------------------

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** CPU time (user + system, all threads) since `since`, in ms. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

function memory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** `gc()` without restarting node with --expose-gc (a no-op when that fails). */
function exposeGc(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    return () => {
      gc();
      gc();
    };
  } catch {
    return () => {};
  }
}
