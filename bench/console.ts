/**
 * Console benchmark: do the API calls behind the web console's views stay fast on a large store?
 *
 *   node --import tsx bench/console.ts [--jobs 10000] [--pages 100000] [--runs 20]
 *
 * An on-disk SQLite store (as `owl serve` keeps it) gets JOBS jobs and one job of PAGES results
 * (2 % failed, all fetched within the last hour), stored through the frontier as workers do. Then
 * each call a view makes is answered RUNS times through inject() (no sockets) and its median time
 * printed, beside GET /healthz, the baseline of a request that touches nothing.
 * Target: every call ≤ 100 ms (the console stays responsive).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/api/app.ts';
import { DEFAULTS } from '../src/config/schema.ts';
import { createEmbeddedMetrics } from '../src/metrics/registry.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { JobOptions, Outcome } from '../src/store/types.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    pages: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '20' },
  },
});
const JOBS = Number(args.jobs);
const PAGES = Number(args.pages);
const RUNS = Number(args.runs);
const TARGET_MS = 100;
const OPTIONS: JobOptions = { maxPages: PAGES, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const dir = mkdtempSync(path.join(tmpdir(), 'owl-bench-console-'));
const store = openSqliteStore({ path: path.join(dir, 'owl.db') });
try {
  await store.migrate();
  let t0 = performance.now();
  for (let i = 0; i < JOBS; i++) await store.jobs.create({ seeds: [`https://site-${i % 50}.example/${i}`], options: { ...OPTIONS, maxPages: 10 }, source: 'bench' });
  console.log(`${JOBS.toLocaleString('en-US')} jobs stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  t0 = performance.now();
  // One seed whose page links to every other URL of the job, as a site's index would.
  const big = await store.jobs.create({ seeds: ['https://big.example/p/0'], options: OPTIONS, source: 'bench' });
  const now = Date.now();
  const claimOpts = { workerId: 'bench', limit: 1000, leaseMs: 60_000, maxPerHost: 1000, hostDelayMs: 0 };
  const outcome = (entry: Outcome['entry']): Outcome => {
    const n = Number(entry.url.slice(entry.url.lastIndexOf('/') + 1));
    const failed = n % 50 === 7;
    const page = {
      url: entry.url, finalUrl: failed ? null : entry.url, statusCode: failed ? 429 : 200, title: failed ? null : `Page ${n}`, bytes: 12_000,
      fetchMs: 20 + (n % 200), errorCode: failed ? (n % 100 === 7 ? 'http_429' : 'timeout') : null, contentType: 'text/html', mode: 'http' as const,
      linksFound: 0, depth: entry.depth, fetchedAt: now - 30 * 60_000 + Math.floor(n / 100), contentHash: null, lastmod: null, content: null,
    };
    if (failed) return { kind: 'failed', entry, page };
    const discovered = n === 0 ? Array.from({ length: PAGES - 1 }, (_, i) => ({ url: `https://big.example/p/${i + 1}`, host: 'big.example', depth: 1 })) : [];
    return { kind: 'done', entry, page, discovered };
  };
  let pending: Outcome[] = [];
  for (let idle = 0; idle < 50;) {
    const { entries, settled } = await store.frontier.settleAndClaim(pending, claimOpts);
    await settled;
    pending = entries.map(outcome);
    idle = entries.length === 0 ? idle + 1 : 0;
    if ((await store.jobs.get(big.id))?.status === 'done') break;
  }
  const job = await store.jobs.get(big.id);
  console.log(`a job of ${(job!.counts.fetched + job!.counts.failed).toLocaleString('en-US')} results (${job!.counts.failed.toLocaleString('en-US')} failed, status ${job!.status}) stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const metrics = createEmbeddedMetrics({
    jobsInQueue: async () => (await store.stats()).jobsInQueue,
    queueDepth: async () => (await store.stats()).queueDepth,
    store: () => ({ backend: store.backend, up: true }),
  });
  const app = await buildApp({ store, metrics: metrics.api, registry: metrics.registry, config: DEFAULTS, consoleDir: dir });
  const jobsPages = (await app.inject({ url: '/jobs?limit=100' })).json() as { jobs: Array<{ id: string }> };
  let deepJob = jobsPages.jobs.at(-1)!.id;
  for (let i = 0; i < Math.floor(JOBS / 100) - 2; i++) {
    deepJob = ((await app.inject({ url: `/jobs?limit=100&after=${deepJob}` })).json() as { jobs: Array<{ id: string }> }).jobs.at(-1)!.id;
  }
  const lastPages = (await app.inject({ url: `/jobs/${big.id}/pages?limit=1&after=${PAGES - 100}` })).json() as { pages: Array<{ id: number }> };
  const deepPage = lastPages.pages[0]!.id;

  const calls: Array<[string, string]> = [
    ['baseline: GET /healthz', '/healthz'],
    ['jobs list, first page', '/jobs?limit=20'],
    [`jobs list, page ${Math.floor(JOBS / 20) - 5} of ${JOBS / 20}`, `/jobs?limit=20&after=${deepJob}`],
    ['jobs list, status=queued', '/jobs?limit=20&status=queued'],
    ['job (GET /jobs/:id)', `/jobs/${big.id}`],
    ['pages, first 50', `/jobs/${big.id}/pages?limit=50`],
    ['pages, 50 near the end', `/jobs/${big.id}/pages?limit=50&after=${deepPage}`],
    ['pages, failed only, first 50', `/jobs/${big.id}/pages?limit=50&outcome=failed`],
    ['events of the finished job (job + failures by code)', `/jobs/${big.id}/events`],
    ['one page', `/jobs/${big.id}/pages/${deepPage}`],
    ['sites, last hour (10,000 results read)', '/sites?window=1h'],
  ];
  let worst = 0;
  for (const [name, url] of calls) {
    const times: number[] = [];
    for (let i = 0; i < RUNS + 2; i++) {
      const start = performance.now();
      const res = await app.inject({ url });
      const ms = performance.now() - start;
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (i >= 2) times.push(ms);
    }
    const m = median(times);
    if (!name.startsWith('baseline')) worst = Math.max(worst, m);
    console.log(`${name.padEnd(56)} median ${m.toFixed(2).padStart(7)} ms`);
  }
  console.log(`slowest: ${worst.toFixed(1)} ms (target ≤ ${TARGET_MS} ms): ${worst <= TARGET_MS ? 'ok' : 'OVER'}`);
  await app.close();
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
