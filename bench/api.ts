/**
 * API benchmark: the cost of request instrumentation, and the /metrics scrape time.
 *
 *   node --import tsx bench/api.ts [--seconds 5] [--rounds 3] [--connections 10]
 *
 * Two apps (instrumentation on and off) on one SQLite store holding one job, each listening on
 * 127.0.0.1:0. autocannon (in a worker thread, so the load generator does not share the servers'
 * event loop) drives GET /jobs/:id against them in alternation (on, off, on, off…); the median
 * requests/s of each side and the loss in % are printed, and — less sensitive to other processes
 * on a shared machine — the event-loop busy time per request of each side. Then 1,000 distinct `site` values are
 * recorded on captcha_encountered_total and the median time of a full GET /metrics is printed.
 * Targets: ≤ 5 % of requests/s lost to instrumentation, scrape ≤ 50 ms.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/api/app.ts';
import { DEFAULTS } from '../src/config/schema.ts';
import { createEmbeddedMetrics, type ProcessMetrics, type ApiMetrics } from '../src/metrics/registry.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { Store } from '../src/store/types.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; workers?: number }) => Promise<AutocannonResult>;
// autocannon ships no type declarations; this is the one call used.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const SITES = 1000;
const SCRAPES = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Side {
  name: string;
  app: FastifyInstance;
  metrics: ProcessMetrics & { api: ApiMetrics };
  url: string;
  rps: number[];
  /** Event-loop busy time per request (µs): the servers' CPU cost, less sensitive to other load. */
  busyUs: number[];
}

async function start(name: string, store: Store, instrument: boolean, jobId: string): Promise<Side> {
  // The same registry shape `owl serve` builds on SQLite, gauges read from the store at scrape time.
  const metrics = createEmbeddedMetrics({
    jobsInQueue: async () => (await store.stats()).jobsInQueue,
    queueDepth: async () => (await store.stats()).queueDepth,
    store: () => ({ backend: store.backend, up: true }),
  });
  const app = await buildApp({ store, metrics: metrics.api, registry: metrics.registry, config: DEFAULTS, instrument });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { name, app, metrics, url: `${base}/jobs/${jobId}`, rps: [], busyUs: [] };
}

async function load(side: Side, seconds: number): Promise<AutocannonResult & { busyUs: number }> {
  // autocannon runs in a worker thread, so the main thread's event loop serves only the apps.
  const before = performance.eventLoopUtilization();
  const r = await autocannon({ url: side.url, connections: CONNECTIONS, duration: seconds, workers: 1 });
  const busy = performance.eventLoopUtilization(before);
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`${side.name}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
  return { ...r, busyUs: (busy.active * 1000) / r.requests.total };
}

async function main(): Promise<void> {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const job = await store.createJob({
    seeds: ['https://bench.example/'],
    source: 'bench',
    options: { maxPages: 10, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false },
  });
  const on = await start('instrumented', store, true, job.id);
  const off = await start('bare', store, false, job.id);
  try {
    console.log(`GET /jobs/:id, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds of on/off`);
    for (const side of [on, off]) await load(side, 1); // warm-up: JIT, connection setup
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of [on, off]) {
        const r = await load(side, SECONDS);
        side.rps.push(r.requests.average);
        side.busyUs.push(r.busyUs);
        console.log(`  round ${round} ${side.name.padEnd(12)} ${r.requests.average.toFixed(0).padStart(7)} req/s  ${r.busyUs.toFixed(1).padStart(6)} µs busy/req  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms`);
      }
    }
    const rpsOn = median(on.rps);
    const rpsOff = median(off.rps);
    const loss = ((rpsOff - rpsOn) / rpsOff) * 100;
    console.log(`median: instrumented ${rpsOn.toFixed(0)} req/s, bare ${rpsOff.toFixed(0)} req/s, loss ${loss.toFixed(1)} % (target ≤ 5 %: ${loss <= 5 ? 'met' : 'MISSED'})`);
    const usOn = median(on.busyUs);
    const usOff = median(off.busyUs);
    console.log(`median server time per request: instrumented ${usOn.toFixed(1)} µs, bare ${usOff.toFixed(1)} µs, instrumentation +${(usOn - usOff).toFixed(1)} µs (${(((usOn - usOff) / usOff) * 100).toFixed(1)} %)`);

    for (let i = 0; i < SITES; i++) on.metrics.api.captchaEncountered.inc({ site: `site-${i}.example` });
    const metricsUrl = on.url.replace(/\/jobs\/.*$/, '/metrics');
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(metricsUrl);
      const text = await res.text();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      bytes = text.length;
      if (!text.includes(`site="site-${SITES - 1}.example"`)) throw new Error('scrape misses the recorded sites');
    }
    const scrape = median(times);
    console.log(`/metrics with ${SITES} captcha sites: median ${scrape.toFixed(2)} ms over ${SCRAPES} scrapes (${(bytes / 1024).toFixed(0)} KiB; target ≤ 50 ms: ${scrape <= 50 ? 'met' : 'MISSED'})`);
  } finally {
    await on.app.close();
    await off.app.close();
    await store.close();
  }
}

await main();
