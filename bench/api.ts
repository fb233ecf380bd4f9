/**
 * API benchmark: the cost of request instrumentation, the cost of API-key authentication, and
 * the /metrics scrape time.
 *
 *   node --import tsx bench/api.ts [--seconds 2] [--rounds 10] [--connections 10]
 *
 * Two servers, instrumentation on and off, each in its own process (so neither shares the
 * other's JIT state, heap or event loop) with its own SQLite store holding one job. autocannon, a
 * third process, drives GET /jobs/:id against them in alternation, the side going first swapping
 * every round. The machine's speed drifts by tens of % between runs, so each round's loss is
 * computed from its two adjacent runs and the median of those is the figure; also printed: each
 * server's CPU time per request, read from /proc, compared the same way. Then 1,000 distinct
 * `site` values are recorded on captcha_encountered_total and the median time of a full
 * GET /metrics is printed.
 * The same comparison is then made between an instrumented server with keys required (every
 * request carries `Authorization: Bearer <key>`: the key checked, its scope, its job's owner)
 * and one with OWL_AUTH=off, two fresh processes started together: a server that has already
 * served a few hundred thousand requests answers the next ones for a few µs less CPU (its JIT and
 * heap have settled), so the first comparison's instrumented server, 20 s of load ahead, would
 * flatter the side without keys.
 * Targets: ≤ 5 % of requests/s lost to instrumentation, ≤ 5 % to authentication, scrape ≤ 50 ms.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/api/app.ts';
import { createApiKey } from '../src/auth/key-service.ts';
import { createRequestInstrumentation } from '../src/api/instrumentation.ts';
import { DEFAULTS } from '../src/config/schema.ts';
import { createEmbeddedMetrics, type ApiMetrics } from '../src/metrics/registry.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
/** Linux reports process CPU time in clock ticks of 1/100 s. */
const CLOCK_TICKS = 100;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    serve: { type: 'string' },
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

type Mode = 'bare' | 'instrumented' | 'auth';

/** One server as `owl serve` builds it on SQLite; prints `{url, metricsUrl, key}` once listening. */
async function serve(mode: Mode): Promise<void> {
  const instrument = mode !== 'bare';
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const auth = mode === 'auth';
  // The key reads its own job: the benchmark pays for the ownership check too.
  const created = auth ? await createApiKey(store, { name: 'bench', scopes: ['jobs:read'] }, { keyId: null, address: 'local' }) : null;
  const job = await store.jobs.create({
    keyId: created?.id ?? null,
    seeds: ['https://bench.example/'],
    source: 'bench',
    options: { maxPages: 10, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false },
  });
  const metrics = createEmbeddedMetrics({
    jobsInQueue: async () => (await store.stats()).jobsInQueue,
    queueDepth: async () => (await store.stats()).queueDepth,
    store: () => ({ backend: store.backend, up: true }),
  });
  if (instrument) for (let i = 0; i < SITES; i++) metrics.api.captchaEncountered.inc({ site: `site-${i}.example` });
  const key = created?.key ?? null;
  // Bench servers listen on loopback only: OWL_AUTH=off is what owl serve accepts there.
  const app = await buildApp({ store, metrics: metrics.api, registry: metrics.registry, config: DEFAULTS, instrument, auth: { mode: auth ? 'required' : 'off' } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ url: `${base}/jobs/${job.id}`, metricsUrl: `${base}/metrics`, key })}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

interface Side {
  name: string;
  child: ChildProcess;
  url: string;
  metricsUrl: string;
  key: string | null;
  rps: number[];
  cpuUs: number[];
}

async function start(name: string, mode: Mode): Promise<Side> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  const { url, metricsUrl, key } = JSON.parse(line) as { url: string; metricsUrl: string; key: string | null };
  return { name, child, url, metricsUrl, key, rps: [], cpuUs: [] };
}

/** utime + stime of a process, in µs. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

async function load(side: Side, seconds: number): Promise<AutocannonResult & { cpuUs: number }> {
  const before = cpuOf(side.child.pid!);
  const headers = side.key ? ['-H', `authorization=Bearer ${side.key}`] : [];
  const child = spawn(process.execPath, [AUTOCANNON, '-j', '-c', String(CONNECTIONS), '-d', String(seconds), ...headers, side.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const r = JSON.parse(out) as AutocannonResult;
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`${side.name}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
  return { ...r, cpuUs: (cpuOf(side.child.pid!) - before) / r.requests.total };
}

/** CPU time of the metric updates alone (label lookup, histogram and counter): ns per request. */
function recordCostNs(metrics: ApiMetrics): number {
  const instrumentation = createRequestInstrumentation(metrics);
  const n = 500_000;
  for (let i = 0; i < n / 10; i++) instrumentation.recordUnrouted('GET', 200);
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    metrics.httpRequestsInFlight.inc();
    metrics.httpRequestsInFlight.dec();
    instrumentation.recordUnrouted('GET', 200);
  }
  const cpu = process.cpuUsage(before);
  return ((cpu.user + cpu.system) * 1000) / n;
}

/** Rounds of alternating runs of two servers; prints each round, then the median loss of `on` against `off` (%). */
async function compare(on: Side, off: Side, what: string): Promise<number> {
  console.log(`GET /jobs/:id, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds of ${on.name}/${off.name}, each server in its own process`);
  for (const side of [on, off]) await load(side, 1); // warm-up: JIT, connection setup
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which side goes first, so drift over the run (GC, heat) does not favour one.
    for (const side of round % 2 ? [on, off] : [off, on]) {
      const r = await load(side, SECONDS);
      side.rps.push(r.requests.average);
      side.cpuUs.push(r.cpuUs);
      console.log(`  round ${round} ${side.name.padEnd(12)} ${r.requests.average.toFixed(0).padStart(7)} req/s  ${r.cpuUs.toFixed(1).padStart(6)} µs CPU/req  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms`);
    }
  }
  const losses = on.rps.map((rps, i) => ((off.rps[i]! - rps) / off.rps[i]!) * 100);
  const loss = median(losses);
  console.log(`requests/s: ${on.name} median ${median(on.rps).toFixed(0)}, ${off.name} median ${median(off.rps).toFixed(0)}`);
  console.log(`loss to ${what}, median of the ${ROUNDS} rounds' own: ${loss.toFixed(1)} % (rounds: ${losses.map((l) => l.toFixed(1)).join(', ')}; target ≤ 5 %: ${loss <= 5 ? 'met' : 'MISSED'})`);
  const extra = on.cpuUs.map((us, i) => ((us - off.cpuUs[i]!) / off.cpuUs[i]!) * 100);
  console.log(`server CPU per request: ${off.name} median ${median(off.cpuUs).toFixed(1)} µs; ${what} +${median(extra).toFixed(1)} % (median of the rounds' own)`);
  return loss;
}

async function main(): Promise<void> {
  const on = await start('instrumented', 'instrumented');
  const off = await start('bare', 'bare');
  try {
    await compare(on, off, 'instrumentation');
    const usOff = median(off.cpuUs);
    const ns = recordCostNs(createEmbeddedMetrics().api);
    console.log(`metric updates alone (in-flight gauge, histogram, counter): ${ns.toFixed(0)} ns CPU per request = ${((ns / 1000 / usOff) * 100).toFixed(1)} % of a bare request`);

    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = process.hrtime.bigint();
      const text = await (await fetch(on.metricsUrl)).text();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      bytes = text.length;
      if (!text.includes(`site="site-${SITES - 1}.example"`)) throw new Error('scrape misses the recorded sites');
    }
    const scrape = median(times);
    console.log(`/metrics with ${SITES} captcha sites: median ${scrape.toFixed(2)} ms over ${SCRAPES} scrapes (${(bytes / 1024).toFixed(0)} KiB; target ≤ 50 ms: ${scrape <= 50 ? 'met' : 'MISSED'})`);
  } finally {
    for (const side of [on, off]) side.child.kill('SIGTERM');
  }
  const keyed = await start('keys', 'auth');
  const plain = await start('instrumented', 'instrumented');
  try {
    await compare(keyed, plain, 'authentication');
  } finally {
    for (const side of [keyed, plain]) side.child.kill('SIGTERM');
  }
}

if (args.serve) await serve(args.serve as Mode);
else await main();
