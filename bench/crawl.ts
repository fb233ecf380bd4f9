/**
 * Crawl throughput: the real `owl crawl` (metrics on, results stored in SQLite) against a bare
 * baseline and Crawlee's CheerioCrawler, on the same generated site, in the same run.
 * Each contender is its own process; the site is another. Prints pages/s, CPU seconds, peak RSS
 * and the ratios. Usage: node --import tsx bench/crawl.ts [pages=5000] [concurrency=32] [--no-crawlee]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Figures } from './contenders/measure.ts';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const pages = Number(args[0] ?? 5000);
const concurrency = Number(args[1] ?? 32);
const withCrawlee = !process.argv.includes('--no-crawlee');
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

const site = await startSite();
try {
  console.log(`site: ${pages} pages of ~12 KB, 20 links each; concurrency ${concurrency}\n`);
  const results: Figures[] = [];
  const contender = (file: string) => lastJsonLine(process.execPath, ['--import', 'tsx', file, site.url, String(pages), String(concurrency)]) as Promise<unknown> as Promise<Figures>;
  results.push(await contender('bench/contenders/baseline.ts'));
  results.push(await owl(site.url));
  if (withCrawlee) results.push(await contender('bench/contenders/crawlee.ts'));
  const [base, ours] = results;
  const rate = (f: Figures) => f.pages / f.seconds;
  console.log('contender                              pages   seconds  pages/s  CPU s  peak RSS MB  vs baseline');
  for (const f of results) {
    console.log(`${f.name.padEnd(38)} ${String(f.pages).padStart(5)} ${f.seconds.toFixed(2).padStart(9)} ${rate(f).toFixed(0).padStart(8)} ${f.cpuSeconds.toFixed(2).padStart(6)} ${f.peakRssMb.toFixed(0).padStart(12)} ${(rate(f) / rate(base)).toFixed(2).padStart(11)}`);
  }
  console.log(`\nowl / baseline pages/s: ${(rate(ours) / rate(base)).toFixed(2)} (target ≥ 0.80)`);
  if (withCrawlee) console.log(`owl / Crawlee CheerioCrawler pages/s: ${(rate(ours) / rate(results[2])).toFixed(1)} (target ≥ 10)`);
  console.log(`owl peak RSS: ${ours.peakRssMb.toFixed(0)} MB (target ≤ 250 MB for ${pages} pages)`);
} finally {
  site.stop();
}
