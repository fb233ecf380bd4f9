/**
 * What a conditional re-crawl saves: two runs of a schedule over a site of N pages with ETags,
 * `changed` of them edited between the runs. Prints one JSON line per run: wall time from the
 * job's creation to its end, full answers, 304s and body bytes the site sent, and the run's
 * change counts. The site runs in this process (a fixture on 127.0.0.1), the store is a SQLite
 * file in a temporary folder, the scheduler runs on a fake clock.
 * Usage: node --import tsx bench/recrawl.ts [pages=2000] [changed=100] [bytes=12000]
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/log.ts';
import { createEmbeddedMetrics, createScheduleMetrics } from '../src/metrics/registry.ts';
import type { ChangeSummary } from '../src/schedules/events.ts';
import { Scheduler } from '../src/schedules/scheduler.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import { createCrawlRuntime } from '../src/worker/runtime.ts';

const pages = Number(process.argv[2] ?? 2000);
const changed = Number(process.argv[3] ?? 100);
const bytes = Number(process.argv[4] ?? 12000);
const FILLER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';

let version = 1;
/** Pages edited in version 2: every (pages / changed)-th page. */
const edited = (i: number) => changed > 0 && i % Math.floor(pages / changed) === 0 && i / Math.floor(pages / changed) < changed;

function page(i: number, v: number): Buffer {
  const links = [(i + 1) % pages, (i * 7 + 3) % pages, (i * 13 + 5) % pages].map((t) => `<li><a href="/page/${t}">Page ${t}</a></li>`).join('');
  let html = `<!doctype html><html><head><title>Page ${i}</title></head><body><nav><ul>${links}</ul></nav><main><h1>Page ${i}</h1>`;
  html += `<p>Revision ${v === 2 && edited(i) ? 2 : 1}.</p>`;
  while (html.length < bytes - 40) html += `<p>${FILLER}</p>\n`;
  return Buffer.from(`${html}</main></body></html>`);
}

const bodies = { 1: Array.from({ length: pages }, (_, i) => page(i, 1)), 2: Array.from({ length: pages }, (_, i) => page(i, 2)) };
const etag = (b: Buffer) => `"${createHash('sha1').update(b).digest('hex').slice(0, 16)}"`;
const tags = { 1: bodies[1].map(etag), 2: bodies[2].map(etag) };
const served = { full: 0, notModified: 0, bytes: 0 };

const server = http.createServer((req, res) => {
  const m = /^\/page\/(\d+)$/.exec(req.url ?? '');
  const i = m ? Number(m[1]) : -1;
  if (i < 0 || i >= pages) {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  const v = version as 1 | 2;
  if (req.headers['if-none-match'] === tags[v][i]) {
    served.notModified++;
    res.writeHead(304, { etag: tags[v][i] }).end();
    return;
  }
  served.full++;
  served.bytes += bodies[v][i]!.length;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': bodies[v][i]!.length, etag: tags[v][i] }).end(bodies[v][i]);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const dir = mkdtempSync(path.join(tmpdir(), 'owl-bench-recrawl-'));
const store = openSqliteStore({ path: path.join(dir, 'owl.db') });
await store.migrate();
const config = loadConfig({}, { allowPrivateTargets: true, hostDelayMs: 0, perHostConcurrency: 16, concurrency: 16, respectRobots: false, browserMax: 0 });
const runtime = await createCrawlRuntime({ config, store, metrics: createEmbeddedMetrics().worker, logger: silentLogger() });
runtime.crawler.start();
const finished: ChangeSummary[] = [];
const clock = { now: Date.UTC(2026, 0, 1) };
const scheduler = new Scheduler({
  store,
  config,
  metrics: createScheduleMetrics(new Registry()),
  events: { onRunFinished: (s) => void finished.push(s), onRunSkipped: () => {} },
  logger: silentLogger(),
  now: () => clock.now,
  onJobCreated: () => runtime.crawler.wake(),
});
const s = await store.schedules.create({
  name: 'bench', cron: '0 * * * *', timezone: 'UTC', overlap: 'skip', revisit: 'all', enabled: true, keyId: null, nextRunAt: clock.now,
  job: {
    seeds: [`${origin}/page/0`], maxPages: pages, maxDepth: 1_000, scope: 'host', mode: 'http', screenshots: false, source: 'schedule', sitemaps: 'skip',
    respectRobots: false, formats: ['markdown'],
  },
});

for (const run of [1, 2]) {
  version = run;
  Object.assign(served, { full: 0, notModified: 0, bytes: 0 });
  const started = performance.now();
  await scheduler.tick();
  const [latest] = await store.schedules.runs(s.id, { limit: 1 });
  for (;;) {
    const job = await store.jobs.get(latest!.jobId!);
    if (job && !['queued', 'running'].includes(job.status)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = Math.round(performance.now() - started);
  await scheduler.tick();
  const summary = finished.at(-1)!;
  console.log(JSON.stringify({ run, pages, ms, full: served.full, notModified: served.notModified, bytes: served.bytes, counts: summary.counts }));
  clock.now += 3_600_000;
}

await runtime.close();
await store.close();
server.close();
rmSync(dir, { recursive: true, force: true });
