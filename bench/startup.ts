/**
 * Start-up, whole process, from spawn: `owl --help` until it exits, `owl serve` until /healthz
 * answers 200, `owl crawl` until the site sees its first request (robots.txt). Each figure is the
 * median of alternating cold runs (a new process each time) of:
 *   - the compiled build: `node bin/owl.js` with dist/ current (built first when it is not);
 *   - the sources through tsx: `node --import tsx src/bin/owl.ts` (what `owl` ran before dist/);
 *   - with --before DIR, another checkout's `node DIR/bin/owl.js` (e.g. the main branch);
 * and `node -e 0` as the floor no Node program goes below.
 * Usage: node --import tsx bench/startup.ts [--runs=9] [--before=DIR]   (npm run bench -- startup)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chooseEntry } from '../bin/entry.js';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '9' }, before: { type: 'string' } } });
const runs = Math.max(1, Number(flags.runs));
const root = path.resolve(import.meta.dirname, '..');

interface Variant {
  name: string;
  /** node arguments before the owl arguments */
  argv: string[];
  cwd: string;
}
const variants: Variant[] = [
  { name: 'compiled (dist/)', argv: ['bin/owl.js'], cwd: root },
  { name: 'sources via tsx', argv: ['--import', 'tsx', 'src/bin/owl.ts'], cwd: root },
];
if (flags.before) variants.push({ name: `before (${flags.before})`, argv: ['bin/owl.js'], cwd: path.resolve(flags.before) });

if (chooseEntry(root) !== 'dist') {
  const r = spawnSync(process.execPath, ['scripts/build.js'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the build failed');
}

const env = (dataDir: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, OWL_DATA_DIR: dataDir, OWL_LOG_LEVEL: 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ms from spawn until the process has exited. */
function timeToExit(argv: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, { cwd, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** ms from spawn until GET /healthz answers 200 (asked every 5 ms); then SIGTERM and wait. */
async function timeToHealthz(v: Variant): Promise<number> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-bench-startup-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [...v.argv, 'serve', '--port', String(port)], { cwd: v.cwd, env: env(dataDir), stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`owl serve exited ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await sleep(5);
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** ms from spawn until the site gets the crawl's first request; the crawl then runs to its end. */
async function timeToFirstFetch(v: Variant): Promise<number> {
  let first: number | null = null;
  const site = http.createServer((req, res) => {
    first ??= performance.now();
    if (req.url === '/robots.txt') res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nAllow: /\n');
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<html><head><title>one page</title></head><body>one page</body></html>');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(site.address() as net.AddressInfo).port}/`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-bench-startup-'));
  try {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...v.argv, 'crawl', url, '--max-pages', '1', '--json'], { cwd: v.cwd, env: env(dataDir), stdio: 'ignore' });
    const code = await new Promise((r) => child.once('exit', r));
    if (code !== 0 || first === null) throw new Error(`owl crawl exited ${code}${first === null ? ' without fetching' : ''}`);
    return first - t0;
  } finally {
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const figures = ['owl --help (exits)', 'owl serve (/healthz answers)', 'owl crawl (first fetch)'] as const;
const targets = [150, 500, 300];
const samples = new Map<string, number[]>();
const add = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);

// One warm-up round (not counted) fills the page cache, as a user's second command would find it.
for (let round = 0; round <= runs; round++) {
  const record = round > 0 ? add : () => {};
  record('floor', await timeToExit(['-e', '0'], root));
  for (const v of variants) {
    record(`${v.name}|${figures[0]}`, await timeToExit([...v.argv, '--help'], v.cwd));
    record(`${v.name}|${figures[1]}`, await timeToHealthz(v));
    record(`${v.name}|${figures[2]}`, await timeToFirstFetch(v));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const cell = (xs: number[] | undefined) => (xs ? `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : '');
console.log(`Start-up, whole process from spawn, ms: median (min–max) of ${runs} alternating runs after one warm-up round`);
console.log(`command: node --import tsx bench/startup.ts${flags.runs === '9' ? '' : ` --runs=${runs}`}${flags.before ? ` --before=${flags.before}` : ''}  (npm run bench -- startup)`);
console.log(['figure'.padEnd(30), ...variants.map((v) => v.name.padStart(22)), 'target'.padStart(8)].join(' '));
figures.forEach((f, i) => {
  console.log([f.padEnd(30), ...variants.map((v) => cell(samples.get(`${v.name}|${f}`)).padStart(22)), `≤ ${targets[i]}`.padStart(8)].join(' '));
});
console.log(`${'node -e 0 (the floor)'.padEnd(30)} ${cell(samples.get('floor')).padStart(22)}`);
