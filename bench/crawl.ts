/**
 * Crawl throughput: the real `owl crawl` (metrics on, results stored in SQLite) against a bare
 * baseline and Crawlee's CheerioCrawler, on the same generated site, in the same run. Each
 * contender is its own process; the site is another. Two kinds of figures per run:
 * - whole process, as a user times the command (start-up and exit included): wall, user+system
 *   CPU and peak RSS from GNU time (the largest process of the tree: `owl crawl` runs in a child);
 * - in-crawl, as each process reports it: from the first request to the last result.
 * The baseline and owl alternate over rounds (the machine's speed drifts between runs), and each
 * ratio reported is the median of the rounds' own ratios.
 *
 * Large sites (`--pages 200000`, `--pages 1000000`): the RSS of owl's process tree is sampled every
 * second, and the site reports its pace every 100,000 pages served; both are printed (the memory
 * curve and pages/s per 100,000). Crawlee is left out above 20,000 pages (about 120 pages/s) and
 * rounds default to 1.
 *
 * Usage: node --import tsx bench/crawl.ts [--pages 5000] [--concurrency 32] [--rounds 3] [--no-crawlee] [--no-baseline]
 *        (the old positional form `bench/crawl.ts 5000 32` still works)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pages: { type: 'string' },
    concurrency: { type: 'string' },
    rounds: { type: 'string' },
    'no-crawlee': { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const pages = Number(flags.pages ?? positionals[0] ?? 5000);
const concurrency = Number(flags.concurrency ?? positionals[1] ?? 32);
const large = pages > 20_000;
const rounds = Math.max(1, Number(flags.rounds ?? (large ? 1 : 3)));
const withCrawlee = !flags['no-crawlee'] && !large;
const withBaseline = !flags['no-baseline'];
const root = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(tmpdir(), 'owl-crawl-bench-'));

interface Run {
  name: string;
  pages: number;
  /** Whole process (GNU time). */
  wall: number;
  cpu: number;
  rssMb: number;
  /** In-crawl, as the process reports it. */
  inSeconds: number;
  inCpu: number;
  /** RSS of the process tree sampled every second (MB; the largest process), when sampled. */
  rssCurve: number[];
  /** The site's pace per 100,000 pages it served during this run (large sites). */
  pace: number[];
  /** CPU seconds of owl's process tree per 100,000 pages (sampled runs; the first includes start-up). */
  cpuPer100k: number[];
}

/** The processes of the tree under `pid` (itself included), from /proc. */
function treeOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  for (const p of parent.keys()) {
    let q: number | undefined = p;
    while (q !== undefined && q !== pid && q > 1) q = parent.get(q);
    if (q === pid) out.push(p);
  }
  return out;
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** RSS (MB) of the largest process in the tree under `pid`. */
function treeRssMb(pid: number): number {
  let largest = 0;
  for (const p of treeOf(pid)) {
    const m = /VmRSS:\s+(\d+)/.exec(readProc(p, 'status'));
    if (m) largest = Math.max(largest, Number(m[1]) / 1024);
  }
  return largest;
}

/** User + system CPU seconds used so far by the live processes of the tree under `pid`. */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of treeOf(pid)) {
    const stat = readProc(p, 'stat');
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

/** The sampled run in progress (large sites): the site's pace lines read its CPU time. */
let sampled: { pid: number; cpuAt: number[] } | null = null;

/** Runs a command under GNU time; resolves with both kinds of figures (the last JSON line it printed gives the in-crawl ones). */
function timed(name: string, argv: string[], env: NodeJS.ProcessEnv = {}, sample = false): Promise<Run> {
  const stats = path.join(work, `time-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', stats, ...argv], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const rssCurve: number[] = [];
    const cpuAt: number[] = [];
    if (sample) sampled = { pid: child.pid!, cpuAt };
    const sampler = sample ? setInterval(() => rssCurve.push(Math.round(treeRssMb(child.pid!))), 1_000) : null;
    let last = '';
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) last = line;
    });
    child.on('exit', (code) => {
      if (sampler) clearInterval(sampler);
      if (sample) sampled = null;
      if (code !== 0 || !last) return reject(new Error(`${name} exited ${code}`));
      const [wall, user, sys, rssKb] = readFileSync(stats, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number, number];
      const printed = JSON.parse(last) as Record<string, unknown>;
      resolve({
        name,
        pages: Number(printed.pages),
        wall,
        cpu: user + sys,
        rssMb: rssKb / 1024,
        inSeconds: Number(printed.seconds),
        inCpu: Number(printed.cpuSeconds),
        rssCurve,
        pace: [],
        cpuPer100k: cpuAt.map((c, i) => c - (i === 0 ? 0 : cpuAt[i - 1]!)),
      });
    });
  });
}

/** The site in its own process; `progress` collects its pace lines (one per 100,000 pages served on large sites). */
async function startSite(): Promise<{ url: string; stop: () => void; progress: Array<{ served: number; pagesPerSecond: number }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/site.ts', String(pages), '20', '12000'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const progress: Array<{ served: number; pagesPerSecond: number }> = [];
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.startsWith('{')) {
      progress.push(JSON.parse(line));
      if (sampled) sampled.cpuAt.push(treeCpuSeconds(sampled.pid));
    }
    else process.stderr.write(`${line}\n`);
  });
  const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  return { url: JSON.parse(line).url, stop: () => child.kill('SIGTERM'), progress };
}

function owl(url: string): Promise<Run> {
  const dataDir = mkdtempSync(path.join(work, 'owl-'));
  const argv = [process.execPath, 'bin/owl.js', 'crawl', url, '--max-pages', String(pages), '--max-depth', '1000', '--concurrency', String(concurrency), '--per-host', String(concurrency), '--host-delay', '0', '--json'];
  return timed('owl crawl (SQLite, metrics, robots)', argv, { OWL_DATA_DIR: dataDir, OWL_LOG_LEVEL: 'error' }, large).finally(() => rmSync(dataDir, { recursive: true, force: true }));
}

function contender(name: string, file: string, url: string): Promise<Run> {
  return timed(name, [process.execPath, '--import', 'tsx', file, url, String(pages), String(concurrency)]);
}

const whole = (r: Run) => r.pages / r.wall;
const inCrawl = (r: Run) => r.pages / r.inSeconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number, w: number, d = 2) => x.toFixed(d).padStart(w);
const row = (r: Run) =>
  `${r.name.padEnd(38)} ${String(r.pages).padStart(7)} ${f(r.wall, 8)} ${f(whole(r), 8, 0)} ${f(r.cpu, 7)} ${f(r.rssMb, 8, 0)} | ${f(r.inSeconds, 8)} ${f(inCrawl(r), 8, 0)} ${f(r.inCpu, 7)}`;

const site = await startSite();
try {
  console.log(`site: ${pages} pages of ~12 KB, 20 links each; concurrency ${concurrency}; ${rounds} round(s)\n`);
  console.log('                                                     whole process (GNU time)          |  in-crawl (own report)');
  console.log('round contender                                 pages   wall s  pages/s   CPU s  RSS MB |   crawl s  pages/s   CPU s');
  const bases: Run[] = [];
  const owls: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side runs first, so neither always meets a site (and a machine) the other warmed up.
    const pair: Array<() => Promise<Run>> = [() => owl(site.url)];
    if (withBaseline) pair.push(() => contender('bare baseline (undici + regex + Set)', 'bench/contenders/baseline.ts', site.url));
    if (r % 2 === 0) pair.reverse();
    for (const run of pair) {
      const before = site.progress.length;
      const result = await run();
      result.pace = site.progress.slice(before).map((p) => p.pagesPerSecond);
      (result.name.startsWith('owl') ? owls : bases).push(result);
      console.log(`${String(r + 1).padStart(5)} ${row(result)}`);
    }
  }
  const crawlee = withCrawlee ? await contender('Crawlee CheerioCrawler', 'bench/contenders/crawlee.ts', site.url) : null;
  if (crawlee) console.log(`    - ${row(crawlee)}`);

  console.log('');
  if (bases.length > 0) {
    const ratios = (rate: (r: Run) => number) => owls.map((o, i) => rate(o) / rate(bases[i]!));
    const say = (label: string, xs: number[]) => console.log(`owl / baseline pages/s, ${label}: ${median(xs).toFixed(2)} (median of ${xs.length}: ${xs.map((x) => x.toFixed(2)).join(', ')}; target ≥ 0.80)`);
    say('whole process', ratios(whole));
    say('in-crawl', ratios(inCrawl));
    // CPU per page moves least when other processes load the machine (wall time moves most).
    const cpu = owls.map((o, i) => o.inCpu / o.pages / (bases[i]!.inCpu / bases[i]!.pages));
    console.log(`owl / baseline CPU seconds per page, in-crawl: ${median(cpu).toFixed(2)} (median of ${cpu.length}: ${cpu.map((x) => x.toFixed(2)).join(', ')})`);
  }
  if (crawlee) {
    console.log(`owl / Crawlee CheerioCrawler pages/s, whole process: ${(median(owls.map(whole)) / whole(crawlee)).toFixed(1)}; in-crawl: ${(median(owls.map(inCrawl)) / inCrawl(crawlee)).toFixed(1)} (target ≥ 10)`);
    console.log(`Crawlee / owl CPU seconds per page: whole process ${(crawlee.cpu / crawlee.pages / median(owls.map((o) => o.cpu / o.pages))).toFixed(1)}, in-crawl ${(crawlee.inCpu / crawlee.pages / median(owls.map((o) => o.inCpu / o.pages))).toFixed(1)}`);
  }
  console.log(`owl peak RSS: ${Math.max(...owls.map((o) => o.rssMb)).toFixed(0)} MB (whole process tree, GNU time)`);
  if (large) {
    const curve = owls[0]!.rssCurve;
    console.log(`owl RSS every second (MB, largest process of the tree; ${curve.length} samples): ${curve.join(' ')}`);
    for (const r of [...owls, ...bases]) {
      if (r.pace.length === 0) continue;
      const last = r.pace.at(-1)!;
      console.log(`${r.name}: pages/s per 100,000 pages (the site's count): ${r.pace.join(', ')}; last / first ${(last / r.pace[0]!).toFixed(2)}`);
      if (r.cpuPer100k.length > 0) {
        console.log(`  CPU s per 100,000 pages (the first includes start-up): ${r.cpuPer100k.map((c) => c.toFixed(1)).join(', ')}; last / first ${(r.cpuPer100k.at(-1)! / r.cpuPer100k[0]!).toFixed(2)}`);
      }
    }
  }
} finally {
  site.stop();
  rmSync(work, { recursive: true, force: true });
}
