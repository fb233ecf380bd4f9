/**
 * SQLite store throughput on a 50,000-URL frontier (file database, WAL, synchronous=NORMAL).
 * Run: node --import tsx bench/store-sqlite.ts [--urls 50000] [--hosts 100] [--pages 20000]
 * Prints figures only; nothing is asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { JobOptions, Outcome, Store } from '../src/store/types.ts';
import { claim, settle } from '../test/store/frontier-calls.ts';

const { values } = parseArgs({
  options: {
    urls: { type: 'string', default: '50000' },
    hosts: { type: 'string', default: '100' },
    pages: { type: 'string', default: '10000' },
  },
});
const URLS = Number(values.urls);
const HOSTS = Number(values.hosts);
const PAGES = Number(values.pages);
const INSERT_BATCH = 500;
const CLAIM_BATCH = 50;

const options: JobOptions = { maxPages: 10_000_000, maxDepth: 1000, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false };
const urlOf = (n: number) => `http://h${n % HOSTS}.bench.test/page/${n}?q=${n * 7}`;

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

/** Wall and CPU time: the machine is shared, so the CPU figure is the steadier one. */
function timer(): () => { wallMs: number; cpuMs: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
  };
}

function describe(n: number, what: string, t: { wallMs: number; cpuMs: number }): string {
  return `${n} ${what} in ${t.wallMs.toFixed(0)} ms wall = ${rate(n, t.wallMs)} (CPU ${t.cpuMs.toFixed(0)} ms = ${rate(n, t.cpuMs)} per core)`;
}

async function insertFigure(store: Store): Promise<void> {
  const batches = Array.from({ length: URLS / INSERT_BATCH }, (_, b) => Array.from({ length: INSERT_BATCH }, (_, i) => urlOf(b * INSERT_BATCH + i)));
  const stop = timer();
  for (const seeds of batches) await store.jobs.create({ seeds, options, source: 'bench' }, 1);
  console.log(`inserts (createJob, ${INSERT_BATCH}-URL batches): ${describe(URLS, 'URLs', stop())}`);
}

async function claimSettleFigure(store: Store, hostDelayMs: number, links: number): Promise<void> {
  const job = await store.jobs.create({ seeds: Array.from({ length: URLS }, (_, i) => urlOf(i)), options, source: 'bench' }, 1);
  let next = URLS;
  let now = 1_000;
  let pages = 0;
  let enqueued = 0;
  const stop = timer();
  while (pages < PAGES) {
    now += hostDelayMs || 1;
    const entries = await claim(store, { workerId: 'bench', limit: CLAIM_BATCH, leaseMs: 60_000, maxPerHost: 1000, hostDelayMs, now });
    if (entries.length === 0) throw new Error('frontier ran dry');
    const outcomes: Outcome[] = entries.map((entry) => ({
      kind: 'done',
      entry,
      page: {
        url: entry.url, finalUrl: entry.url, statusCode: 200, title: 'a page', bytes: 12_000, fetchMs: 3, errorCode: null,
        contentType: 'text/html', mode: 'http', linksFound: links, depth: entry.depth, fetchedAt: now,
        contentHash: null, lastmod: null, content: null,
      },
      discovered: Array.from({ length: links }, () => {
        const n = next++;
        return { url: urlOf(n), host: `h${n % HOSTS}.bench.test`, depth: entry.depth + 1 };
      }),
    }));
    enqueued += (await settle(store, outcomes, now)).enqueued;
    pages += entries.length;
  }
  const took = stop();
  const stats = await store.stats();
  const counts = (await store.jobs.get(job.id))!.counts;
  console.log(
    `claim+settle, hostDelayMs=${hostDelayMs}, batches of ${CLAIM_BATCH}, ${links} new links per page: ${describe(pages, 'pages', took)};` +
      ` ${enqueued} URLs admitted; queueDepth ${stats.queueDepth}, fetched ${counts.fetched}`,
  );
  const statsStarted = performance.now();
  for (let i = 0; i < 1000; i++) await store.stats();
  console.log(`stats(): ${((performance.now() - statsStarted) / 1000).toFixed(3)} ms per call with ${stats.queueDepth} URLs waiting`);
}

const root = mkdtempSync(path.join(tmpdir(), 'owl-bench-sqlite-'));
try {
  console.log(`SQLite store bench: ${URLS} URLs over ${HOSTS} hosts`);
  for (const [name, run] of [
    ['insert', (s: Store) => insertFigure(s)],
    ['claim-nolinks', (s: Store) => claimSettleFigure(s, 0, 0)],
    ['claim', (s: Store) => claimSettleFigure(s, 0, 20)],
    ['claim-delay', (s: Store) => claimSettleFigure(s, 250, 20)],
  ] as const) {
    const store = openSqliteStore({ path: path.join(root, `${name}.db`) });
    await store.migrate();
    await run(store);
    await store.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
