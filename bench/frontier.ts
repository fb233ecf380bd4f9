/**
 * Frontier benchmark: URLs enqueued/s and URLs claimed+acked/s on PostgreSQL and SQLite, with 1 and
 * 4 concurrent workers (on PostgreSQL each worker has its own pool; one process owns a SQLite file,
 * so there the workers are concurrent loops on its one store), batches like the worker's (claim up to BATCH, settle each page with a few
 * discovered links). Each loop turn is the worker's one call, `frontier.settleAndClaim`: one
 * transaction on PostgreSQL; on SQLite slots free in memory and the writes go in group commits
 * that the loop does not wait for (it waits for them at the end, as the worker does on stop).
 * Prints a table and the ratio to the 5,000 URLs/s target.
 *
 *   node --import tsx bench/frontier.ts [--urls 20000] [--batch 64] [--links 3] [--hosts 20] [--backend all|postgres|sqlite]
 *
 * PostgreSQL: DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres; the run creates the
 * database owl_bench_frontier (if missing) and a throw-away schema in it, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openPostgresStore } from '../src/store/postgres/index.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { DiscoveredUrl, Outcome, Store } from '../src/store/types.ts';

const TARGET_PER_SECOND = 5_000;

const { values } = parseArgs({
  options: {
    urls: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '64' },
    links: { type: 'string', default: '3' },
    hosts: { type: 'string', default: '20' },
    backend: { type: 'string', default: 'all' },
  },
});
const URLS = Number(values.urls);
const BATCH = Number(values.batch);
const LINKS = Number(values.links);
const HOSTS = Number(values.hosts);

interface Backend {
  name: string;
  /** A fresh empty database; `open()` gives one more handle on it; `serverCpuMs()` the database server's CPU so far, when measurable. */
  setup(): Promise<{ open: () => Store; teardown: () => Promise<void>; serverCpuMs?: () => Promise<number | undefined> }>;
}

/** CPU time (user + system) of local processes by pid, from /proc; undefined when not readable (a remote server). */
function cpuMsOf(pids: number[]): number | undefined {
  try {
    const ticks = pids.reduce((t, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return t + Number(fields[11]) + Number(fields[12]);
    }, 0);
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const postgres: Backend = {
  name: 'PostgreSQL',
  async setup() {
    const dbName = 'owl_bench_frontier';
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    if (!(await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount) await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${dbName}`;
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const options = `-c search_path=${schema}`;
    const owner = new pg.Pool({ connectionString: url.toString(), options, max: 1 });
    await owner.query(`CREATE SCHEMA ${schema}`);
    // The store's connections carry this application_name, so their server processes can be found.
    url.searchParams.set('application_name', schema);
    const backendPids = async () =>
      (await owner.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [schema])).rows.map((r: { pid: number }) => r.pid);
    return {
      open: () => openPostgresStore({ url: url.toString(), poolSize: 4, pool: { options } }),
      serverCpuMs: async () => cpuMsOf(await backendPids()),
      teardown: async () => {
        await owner.query(`DROP SCHEMA ${schema} CASCADE`);
        await owner.end();
      },
    };
  },
};

const sqlite: Backend = {
  name: 'SQLite',
  async setup() {
    const dir = mkdtempSync(path.join(tmpdir(), 'owl-bench-frontier-'));
    const file = path.join(dir, 'owl.db');
    let store: Store | undefined;
    return { open: () => (store ??= openSqliteStore({ path: file })), teardown: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

interface Result {
  backend: string;
  workers: number;
  enqueuePerSecond: number;
  ackedPerSecond: number;
  acked: number;
  claims: number;
  /** Database server CPU per 1,000 URLs claimed and acked (independent of other load on the machine). */
  serverCpuMsPer1000?: number;
}

async function run(backend: Backend, workers: number): Promise<Result> {
  const { open, teardown, serverCpuMs } = await backend.setup();
  const handles = Array.from({ length: workers }, open);
  try {
    await handles[0]!.migrate();
    for (const h of handles.slice(1)) await h.migrate();
    const seeds = Array.from({ length: Math.floor(URLS / (LINKS + 1)) }, (_, i) => `http://h${i % HOSTS}.bench/seed/${i}`);
    const options = { maxPages: URLS, maxDepth: 1_000, scope: 'domain' as const, mode: 'http' as const, respectRobots: false, allowPrivate: true };
    const t0 = performance.now();
    const job = await handles[0]!.jobs.create({ seeds, options, source: 'bench' });
    const enqueueSeconds = (performance.now() - t0) / 1000;

    let next = 0;
    let acked = 0;
    let claims = 0;
    const writes: Promise<void>[] = [];
    // Backends are counted from the first claim: every pool connection exists by then.
    await Promise.all(handles.map((h) => h.stats()));
    const cpuBefore = await serverCpuMs?.();
    const start = performance.now();
    await Promise.all(
      handles.map(async (store, w) => {
        let idle = 0;
        let pending: Outcome[] = [];
        while (idle < 50) {
          const claim = { workerId: `bench-${w}`, limit: BATCH, leaseMs: 60_000, maxPerHost: BATCH, hostDelayMs: 0 };
          const { entries, settled } = await store.frontier.settleAndClaim(pending, claim);
          if (pending.length > 0) {
            writes.push(
              settled.then((r) => {
                acked += r.accepted.filter(Boolean).length;
              }),
            );
          }
          pending = [];
          claims++;
          if (entries.length === 0) {
            const j = await store.jobs.get(job.id);
            if (j?.status !== 'running') break;
            idle++;
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          idle = 0;
          pending = entries.map((e) => {
            const discovered: DiscoveredUrl[] = Array.from({ length: LINKS }, () => {
              const k = next++;
              return { url: `http://h${k % HOSTS}.bench/page/${k}`, host: `h${k % HOSTS}.bench`, depth: e.depth + 1 };
            });
            return {
              kind: 'done',
              entry: e,
              discovered,
              page: { url: e.url, finalUrl: e.url, statusCode: 200, title: 't', bytes: 12_000, fetchMs: 5, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: LINKS, depth: e.depth, fetchedAt: Date.now(), contentHash: null, lastmod: null, content: null },
            } satisfies Outcome;
          });
        }
      }),
    );
    await Promise.all(writes);
    const seconds = (performance.now() - start) / 1000;
    const cpuAfter = await serverCpuMs?.();
    const serverCpuMsPer1000 = cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) / acked) * 1000 : undefined;
    const end = await handles[0]!.jobs.get(job.id);
    if (end?.status !== 'done' || end.counts.fetched !== URLS) throw new Error(`${backend.name}: the job ended ${end?.status} with ${JSON.stringify(end?.counts)}`);
    return { backend: backend.name, workers, enqueuePerSecond: seeds.length / enqueueSeconds, ackedPerSecond: acked / seconds, acked, claims, serverCpuMsPer1000 };
  } finally {
    for (const h of handles) await h.close();
    await teardown();
  }
}

const results: Result[] = [];
const backends = Object.entries({ postgres, sqlite }).filter(([key]) => values.backend === 'all' || key === values.backend).map(([, b]) => b);
if (backends.length === 0) throw new Error(`--backend must be all, postgres or sqlite (got ${values.backend})`);
for (const backend of backends) {
  for (const workers of [1, 4]) {
    const r = await run(backend, workers);
    results.push(r);
    console.error(`done: ${r.backend} × ${workers}`);
  }
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`\nfrontier: ${fmt(URLS)} URLs over ${HOSTS} hosts, claim batches of ${BATCH}, ${LINKS} links discovered per page`);
console.log('backend     workers  enqueue URLs/s (createJob)  claimed+acked URLs/s  vs 5,000/s target  server CPU ms / 1,000 URLs');
for (const r of results) {
  const cpu = r.serverCpuMsPer1000 === undefined ? '-' : fmt(r.serverCpuMsPer1000);
  console.log(
    `${r.backend.padEnd(11)} ${String(r.workers).padStart(7)}  ${fmt(r.enqueuePerSecond).padStart(26)}  ${fmt(r.ackedPerSecond).padStart(20)}  ${(r.ackedPerSecond / TARGET_PER_SECOND).toFixed(2).padStart(8)}x  ${cpu.padStart(26)}`,
  );
}
console.log(`load average while measuring: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} (other processes share the CPUs; the server CPU column does not depend on them)`);
