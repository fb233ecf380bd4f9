/**
 * Scraping throughput, whole process (start-up and exit included, as a user times a command): the
 * real `owl crawl` on the bench site with metadata only (the default), with a 5-field `extract`, and
 * with the extract plus Markdown, next to Crawlee's CheerioCrawler doing the same 5-field extraction
 * with `pushData` into an in-memory dataset, and the bare baseline loop — in the same run. owl's
 * sides and the baseline alternate over rounds (the machine's speed drifts); medians are reported.
 * Each process is timed by GNU time (wall, user+system CPU, peak RSS).
 *
 *   node --import tsx bench/scrape.ts [pages=5000] [concurrency=32] [--rounds 3] [--no-crawlee]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';
import { compileScrapeOptions, scrapePage } from '../src/scrape/index.ts';
import { BENCH_EXTRACT } from './contenders/bench-extract.ts';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' }, 'no-crawlee': { type: 'boolean', default: false } },
});
const pages = Number(positionals[0] ?? 5000);
const concurrency = Number(positionals[1] ?? 32);
const rounds = Math.max(1, Number(flags.rounds));
const root = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(tmpdir(), 'owl-scrape-bench-'));
const rulesFile = path.join(work, 'rules.json');
writeFileSync(rulesFile, JSON.stringify(BENCH_EXTRACT));

interface Run {
  name: string;
  pages: number;
  wall: number;
  cpu: number;
  rssMb: number;
}

/** Runs a command under GNU time; resolves with its figures and the last JSON line it printed. */
function timed(name: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ run: Run; last: Record<string, unknown> }> {
  const stats = path.join(work, `time-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, ...argv], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let last = '';
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) last = line;
    });
    child.on('exit', (code) => {
      if (code !== 0 || !last) return reject(new Error(`${name} exited ${code}`));
      const [wall, user, sys, rssKb] = readFileSync(stats, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number, number];
      const printed = JSON.parse(last) as Record<string, unknown>;
      resolve({ run: { name, pages: Number(printed.pages), wall, cpu: user + sys, rssMb: rssKb / 1024 }, last: printed });
    });
  });
}

async function startSite(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/site.ts', String(pages), '20', '12000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout }).once('line', resolve));
  return { url: JSON.parse(line).url, stop: () => child.kill('SIGTERM') };
}

function owl(name: string, url: string, extra: string[]): Promise<Run> {
  const dataDir = mkdtempSync(path.join(work, 'owl-'));
  return timed(name, [process.execPath, 'bin/owl.js', 'crawl', url, '--max-pages', String(pages), '--max-depth', '1000', '--concurrency', String(concurrency), '--per-host', String(concurrency), '--host-delay', '0', '--json', ...extra], {
    OWL_DATA_DIR: dataDir,
    OWL_LOG_LEVEL: 'error',
  }).then(({ run }) => {
    rmSync(dataDir, { recursive: true, force: true });
    return run;
  });
}

const rate = (r: Run) => r.pages / r.wall;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const us = (seconds: number, n: number) => ((seconds / n) * 1e6).toFixed(0);

/** The libraries' own cost on one bench page: Readability on linkedom, and turndown of its result, in µs. */
async function libraryCost(url: string): Promise<{ readability: number; turndown: number; ours: number }> {
  const html = await (await fetch(url)).text();
  const turndown = new TurndownService();
  const time = (fn: () => unknown): number => {
    for (let i = 0; i < 20; i++) fn();
    const n = 200;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const c = process.cpuUsage(t0);
    return (c.user + c.system) / n;
  };
  let article = '';
  const readability = time(() => {
    article = new Readability(parseHTML(html).document).parse()?.content ?? '';
  });
  const md = time(() => turndown.turndown(article));
  const compiled = compileScrapeOptions({ formats: ['metadata', 'markdown'], onlyMainContent: true, extract: null, sitemaps: 'skip' });
  // scrapePage is async (the main-content module loads on first use): each call is awaited, or
  // only its synchronous start would be timed.
  const scrape = () => scrapePage({ finalUrl: url, contentType: 'text/html', body: html }, compiled, { maxContentBytes: 2 << 20 });
  for (let i = 0; i < 20; i++) await scrape();
  const n = 100;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await scrape();
  const c = process.cpuUsage(t0);
  return { readability, turndown: md, ours: (c.user + c.system) / n };
}

const site = await startSite();
try {
  console.log(`site: ${pages} pages of ~12 KB, 20 links each; concurrency ${concurrency}; ${rounds} round(s); whole processes (GNU time)\n`);
  const sides: Record<string, Run[]> = { baseline: [], metadata: [], extract: [], markdown: [] };
  const runners: Record<string, () => Promise<Run>> = {
    baseline: () => timed('bare baseline (undici + regex + Set)', [process.execPath, '--import', 'tsx', 'bench/contenders/baseline.ts', site.url, String(pages), String(concurrency)]).then((r) => r.run),
    metadata: () => owl('owl crawl, metadata (default)', site.url, []),
    extract: () => owl('owl crawl, metadata + 5-field extract', site.url, ['--extract', rulesFile]),
    markdown: () => owl('owl crawl, extract + markdown', site.url, ['--extract', rulesFile, '--formats', 'metadata,markdown']),
  };
  const order = Object.keys(runners);
  console.log('round contender                                   pages   wall s  pages/s  CPU s  peak RSS MB');
  const line = (r: Run) => `${r.name.padEnd(42)} ${String(r.pages).padStart(5)} ${r.wall.toFixed(2).padStart(8)} ${rate(r).toFixed(0).padStart(8)} ${r.cpu.toFixed(2).padStart(6)} ${r.rssMb.toFixed(0).padStart(12)}`;
  for (let r = 0; r < rounds; r++) {
    // Rotate the order so no side always meets a machine another side warmed up.
    for (let k = 0; k < order.length; k++) {
      const key = order[(k + r) % order.length]!;
      const run = await runners[key]!();
      sides[key]!.push(run);
      console.log(`${String(r + 1).padStart(5)} ${line(run)}`);
    }
  }
  const crawlee = flags['no-crawlee']
    ? null
    : (await timed('Crawlee CheerioCrawler, 5-field extract + pushData', [process.execPath, '--import', 'tsx', 'bench/contenders/crawlee-extract.ts', site.url, String(pages), String(concurrency)])).run;
  if (crawlee) console.log(`    - ${line(crawlee)}`);

  const med = (key: string, f: (r: Run) => number) => median(sides[key]!.map(f));
  console.log(`\nmedians of ${rounds} round(s), pages/s: baseline ${med('baseline', rate).toFixed(0)}, metadata ${med('metadata', rate).toFixed(0)}, extract ${med('extract', rate).toFixed(0)}, markdown ${med('markdown', rate).toFixed(0)}`);
  console.log(`metadata-only owl / bare baseline: ${(med('metadata', rate) / med('baseline', rate)).toFixed(2)}`);
  console.log(`extract / metadata-only: ${(med('extract', rate) / med('metadata', rate)).toFixed(2)} (the extraction's cost on the whole crawl)`);
  if (crawlee) console.log(`owl with extract / Crawlee CheerioCrawler with extract: ${(med('extract', rate) / rate(crawlee)).toFixed(1)}× (target ≥ 10×)`);
  // CPU per page moves least when other processes load the machine (wall time moves most).
  const cpuPage = (key: string) => med(key, (r) => r.cpu / r.pages);
  console.log(`CPU seconds per page (whole process, medians): baseline ${us(cpuPage('baseline'), 1)} µs, metadata ${us(cpuPage('metadata'), 1)} µs, extract ${us(cpuPage('extract'), 1)} µs, markdown ${us(cpuPage('markdown'), 1)} µs${crawlee ? `, Crawlee with extract ${us(crawlee.cpu / crawlee.pages, 1)} µs (${(crawlee.cpu / crawlee.pages / cpuPage('extract')).toFixed(1)}× owl's extract)` : ''}`);
  const mdCpuPerPage = (med('markdown', (r) => r.cpu) - med('extract', (r) => r.cpu)) / pages;
  const lib = await libraryCost(site.url);
  console.log(`Markdown: ${us(mdCpuPerPage, 1)} µs of CPU per page in the crawl (markdown run minus extract run, medians); on one bench page in-process: our main content + Markdown ${lib.ours.toFixed(0)} µs, Readability alone ${lib.readability.toFixed(0)} µs, turndown alone ${lib.turndown.toFixed(0)} µs`);
} finally {
  site.stop();
  rmSync(work, { recursive: true, force: true });
}
