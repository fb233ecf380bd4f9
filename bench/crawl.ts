/**
 * Crawl throughput: the real `owl crawl` (metrics on, results stored in SQLite) against a bare
 * baseline and Crawlee's CheerioCrawler, on the same generated site, in the same run.
 * Each contender is its own process; the site is another. Prints pages/s, CPU seconds, peak RSS
 * and the ratios. The baseline and owl run in alternating order for several rounds (the machine's
 * speed drifts between runs), and the ratio reported is the median of each round's own ratio.
 * Usage: node --import tsx bench/crawl.ts [pages=5000] [concurrency=32] [--rounds 3] [--no-crawlee]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import type { Figures } from './contenders/measure.ts';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' }, 'no-crawlee': { type: 'boolean', default: false } },
});
const pages = Number(positionals[0] ?? 5000);
const concurrency = Number(positionals[1] ?? 32);
const rounds = Math.max(1, Number(flags.rounds));
const withCrawlee = !flags['no-crawlee'];
const root = path.resolve(import.meta.dirname, '..');

function lastJsonLine(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let last = '';
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) last = line;
    });
    child.on('exit', (code) => (code === 0 && last ? resolve(JSON.parse(last)) : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

async function startSite(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/site.ts', String(pages), '20', '12000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout }).once('line', resolve));
  return { url: JSON.parse(line).url, stop: () => child.kill('SIGTERM') };
}

async function owl(url: string): Promise<Figures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-bench-'));
  try {
    const s = await lastJsonLine(process.execPath, ['bin/owl.js', 'crawl', url, '--max-pages', String(pages), '--max-depth', '1000', '--concurrency', String(concurrency), '--per-host', String(concurrency), '--host-delay', '0', '--json'], {
      OWL_DATA_DIR: dataDir,
      OWL_LOG_LEVEL: 'error',
    });
    return { name: 'owl crawl (SQLite, metrics, robots)', pages: Number(s.pages), seconds: Number(s.seconds), cpuSeconds: Number(s.cpuSeconds), peakRssMb: Number(s.peakRssMb) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rate = (f: Figures) => f.pages / f.seconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const row = (f: Figures, ratio: number) =>
  `${f.name.padEnd(38)} ${String(f.pages).padStart(5)} ${f.seconds.toFixed(2).padStart(9)} ${rate(f).toFixed(0).padStart(8)} ${f.cpuSeconds.toFixed(2).padStart(6)} ${f.peakRssMb.toFixed(0).padStart(12)} ${ratio.toFixed(2).padStart(11)}`;

const site = await startSite();
try {
  console.log(`site: ${pages} pages of ~12 KB, 20 links each; concurrency ${concurrency}; ${rounds} round(s)\n`);
  const contender = (file: string) => lastJsonLine(process.execPath, ['--import', 'tsx', file, site.url, String(pages), String(concurrency)]) as Promise<unknown> as Promise<Figures>;
  console.log('round contender                              pages   seconds  pages/s  CPU s  peak RSS MB  vs baseline');
  const bases: Figures[] = [];
  const owls: Figures[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side runs first, so neither always meets a site (and a machine) the other warmed up.
    let base: Figures;
    let ours: Figures;
    if (r % 2 === 0) {
      base = await contender('bench/contenders/baseline.ts');
      ours = await owl(site.url);
    } else {
      ours = await owl(site.url);
      base = await contender('bench/contenders/baseline.ts');
    }
    bases.push(base);
    owls.push(ours);
    ratios.push(rate(ours) / rate(base));
    console.log(`${String(r + 1).padStart(5)} ${row(base, 1)}`);
    console.log(`${String(r + 1).padStart(5)} ${row(ours, rate(ours) / rate(base))}`);
  }
  const baseRate = median(bases.map(rate));
  const crawlee = withCrawlee ? await contender('bench/contenders/crawlee.ts') : null;
  if (crawlee) console.log(`    - ${row(crawlee, rate(crawlee) / baseRate)}`);

  const ratio = median(ratios);
  const ownRate = median(owls.map(rate));
  console.log(`\nowl / baseline pages/s: ${ratio.toFixed(2)} (median of ${rounds} rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}; target ≥ 0.80)`);
  if (crawlee) console.log(`owl / Crawlee CheerioCrawler pages/s: ${(ownRate / rate(crawlee)).toFixed(1)} (owl's median ${ownRate.toFixed(0)} pages/s; target ≥ 10)`);
  console.log(`owl peak RSS: ${Math.max(...owls.map((f) => f.peakRssMb)).toFixed(0)} MB at most (target ≤ 250 MB for ${pages} pages)`);
} finally {
  site.stop();
}
