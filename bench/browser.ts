/**
 * Browser crawling: this project's pool against Crawlee's PlaywrightCrawler on the same
 * JavaScript-rendered site, in the same run, each in its own process with the same Chromium,
 * the same flags and a fixed concurrency. A page's links exist only after its script ran, so
 * a crawler that does not render finds nothing beyond the first page.
 *
 * Figures per contender: pages/s, CPU seconds and peak RSS of its whole process tree (Node plus
 * every Chromium process), sampled from /proc every 100 ms.
 *
 * Usage: node --import tsx bench/browser.ts [pages=200] [concurrency=4]
 * (internally re-run as `bench/browser.ts owl|crawlee <url> <concurrency>` for each contender)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH } from '../src/crawl/browser/chromium-args.ts';
import { rng } from './rng.ts';

interface RunFigures {
  pages: number;
  seconds: number;
}

interface TreeFigures extends RunFigures {
  name: string;
  cpuSeconds: number;
  peakRssMb: number;
}

const CLOCK_TICKS = 100;
const SAMPLE_MS = 100;

// ---------------------------------------------------------------- the site

/** Page i: some prose, and a script that writes 10 links (to i+1 and to pseudo-random others). */
function jsPage(i: number, pages: number): string {
  const random = rng(i + 7);
  const targets = [(i + 1) % pages];
  while (targets.length < 10) targets.push(Math.floor(random() * pages));
  const prose = '<p>Owls are birds from the order Strigiformes, with an upright stance and a large head.</p>'.repeat(20);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Page ${i}</title></head><body><h1>Page ${i}</h1>${prose}<ul id="nav"></ul>
<script>
for (const t of ${JSON.stringify(targets)}) {
  const li = document.createElement('li'); const a = document.createElement('a');
  a.href = '/page/' + t; a.textContent = 'Page ' + t; li.appendChild(a); document.getElementById('nav').appendChild(li);
}
</script></body></html>`;
}

async function startSite(pages: number): Promise<{ url: string; close(): Promise<void> }> {
  const bodies = Array.from({ length: pages }, (_, i) => Buffer.from(jsPage(i, pages)));
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const m = /^\/page\/(\d+)$/.exec(req.url ?? '');
    const i = m ? Number(m[1]) : -1;
    if (i >= 0 && i < pages) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': bodies[i]!.length });
      res.end(bodies[i]);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
      res.end('not found');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/page/0`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

// ---------------------------------------------------------------- process-tree sampling

function readStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples a process tree: peak of the summed RSS, and CPU ticks of every process ever seen in it. */
function sampleTree(root: number): { stop(): { cpuSeconds: number; peakRssMb: number } } {
  const ticks = new Map<number, number>();
  let peakKb = 0;
  const sample = (): void => {
    const stats = new Map<number, { ppid: number; ticks: number }>();
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const s = readStat(Number(name));
      if (s) stats.set(Number(name), s);
    }
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
    let kb = 0;
    const stack = [root];
    while (stack.length > 0) {
      const pid = stack.pop()!;
      const s = stats.get(pid);
      if (!s) continue;
      ticks.set(pid, Math.max(ticks.get(pid) ?? 0, s.ticks));
      kb += rssKb(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    peakKb = Math.max(peakKb, kb);
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      let total = 0;
      for (const t of ticks.values()) total += t;
      return { cpuSeconds: total / CLOCK_TICKS, peakRssMb: peakKb / 1024 };
    },
  };
}

async function runContender(name: string, role: string, url: string, concurrency: number): Promise<TreeFigures> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, role, url, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sampler = sampleTree(child.pid!);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  // The tree is gone now; the last sample before exit holds its CPU ticks.
  const tree = sampler.stop();
  if (code !== 0) throw new Error(`${name} exited with ${code}`);
  const last = out.trim().split('\n').at(-1)!;
  const run = JSON.parse(last) as RunFigures;
  return { name, ...run, ...tree };
}

// ---------------------------------------------------------------- contenders (child processes)

async function crawlWithOwl(start: string, concurrency: number): Promise<RunFigures> {
  const { createBrowserPool } = await import('../src/crawl/browser/pool.ts');
  const pool = createBrowserPool({ executablePath: DEFAULT_CHROMIUM_PATH, maxBrowsers: 1, pagesPerBrowser: concurrency, retireAfter: 200, navigationTimeoutMs: 20_000 });
  const origin = new URL(start).origin;
  const seen = new Set([start]);
  const queue = [start];
  let inFlight = 0;
  let pages = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (queue.length === 0 && inFlight === 0) return resolve();
      while (inFlight < concurrency && queue.length > 0) {
        const url = queue.shift()!;
        inFlight++;
        pool.render({ url, allowPrivate: true, session: 'bench' }).then((r) => {
          pages++;
          for (const link of r.links) {
            if (link.startsWith(origin) && !seen.has(link)) {
              seen.add(link);
              queue.push(link);
            }
          }
          inFlight--;
          pump();
        }, reject);
      }
    };
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return { pages, seconds };
}

async function crawlWithCrawlee(start: string, concurrency: number): Promise<RunFigures> {
  const { PlaywrightCrawler, Configuration, log, LogLevel } = await import('crawlee');
  const { chromium } = await import('playwright');
  log.setLevel(LogLevel.ERROR);
  const config = new Configuration({ persistStorage: false, purgeOnStart: true });
  let pages = 0;
  const crawler = new PlaywrightCrawler(
    {
      launchContext: { launcher: chromium, launchOptions: { executablePath: DEFAULT_CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true } },
      headless: true,
      minConcurrency: concurrency,
      maxConcurrency: concurrency,
      autoscaledPoolOptions: { desiredConcurrency: concurrency },
      maxRequestRetries: 0,
      async requestHandler({ enqueueLinks }) {
        pages++;
        await enqueueLinks({ strategy: 'same-hostname' });
      },
    },
    config,
  );
  const t0 = performance.now();
  await crawler.run([start]);
  return { pages, seconds: (performance.now() - t0) / 1000 };
}

// ---------------------------------------------------------------- main

const [role, ...rest] = process.argv.slice(2);
if (role === 'owl' || role === 'crawlee') {
  const [url, concurrency] = rest;
  const figures = role === 'owl' ? await crawlWithOwl(url!, Number(concurrency)) : await crawlWithCrawlee(url!, Number(concurrency));
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  process.exit(0);
}

const pages = Number(role ?? 200);
const concurrency = Number(rest[0] ?? 4);
const site = await startSite(pages);
console.log(`JS-rendered site: ${pages} pages, links written by script; concurrency ${concurrency}; Chromium ${DEFAULT_CHROMIUM_PATH}`);
const results: TreeFigures[] = [];
try {
  results.push(await runContender('owl browser pool', 'owl', site.url, concurrency));
  results.push(await runContender('Crawlee PlaywrightCrawler', 'crawlee', site.url, concurrency));
} finally {
  await site.close();
}
const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`${pad('contender', 28)}${pad('pages', 7)}${pad('seconds', 9)}${pad('pages/s', 9)}${pad('CPU s', 8)}peak RSS MB`);
for (const r of results) {
  console.log(`${pad(r.name, 28)}${pad(String(r.pages), 7)}${pad(r.seconds.toFixed(1), 9)}${pad((r.pages / r.seconds).toFixed(1), 9)}${pad(r.cpuSeconds.toFixed(1), 8)}${r.peakRssMb.toFixed(0)}`);
}
const [owl, crawlee] = results as [TreeFigures, TreeFigures];
console.log(`ratio owl/Crawlee: pages/s ${((owl.pages / owl.seconds) / (crawlee.pages / crawlee.seconds)).toFixed(2)}x, ` +
  `CPU per page ${((owl.cpuSeconds / owl.pages) / (crawlee.cpuSeconds / crawlee.pages)).toFixed(2)}x, peak RSS ${(owl.peakRssMb / crawlee.peakRssMb).toFixed(2)}x`);
if (owl.pages !== pages || crawlee.pages !== pages) console.log(`WARNING: expected ${pages} pages from each contender`);
