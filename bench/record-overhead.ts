/**
 * What recording every page costs a crawl: the real `owl crawl` (metadata only, the default)
 * against the same commit with the record path cut out — yieldOf returning the page's links and
 * title at once, as the crawl did before it kept any content (the "plain crawl" of the scraping
 * issue: ≤ 10 % slower is its target). The plain side is built from a temporary worktree of HEAD
 * with that one change; uncommitted changes are not in it, so commit first. The two alternate over
 * rounds on the bench site (the machine's speed drifts); per-round ratios and their medians are
 * printed, in-crawl (owl's own report) and whole process (start-up and exit included).
 *
 *   node --import tsx bench/record-overhead.ts [--pages 5000] [--rounds 8]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({ options: { pages: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '8' } } });
const pages = Number(flags.pages);
const rounds = Math.max(1, Number(flags.rounds));
const root = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(tmpdir(), 'owl-record-bench-'));
const plainDir = path.join(work, 'plain');

/** The one change that makes the plain crawl: the first statement of yieldOf returns links and title. */
const CONTENT_FILE = 'src/worker/page-content.ts';
const YIELD_START = /export function yieldOf\([^)]*\)[^{]*\{\n/;
const PLAIN_RETURN = `  if (doc.body !== null) {
    const s = extractPage(doc.body, doc.finalUrl);
    return { links: s.links, title: s.title ?? null, contentHash: '', dataHash: null, content: null };
  }
`;

function buildPlain(): void {
  execFileSync('git', ['worktree', 'add', '--detach', plainDir, 'HEAD'], { cwd: root, stdio: 'ignore' });
  symlinkSync(path.join(root, 'node_modules'), path.join(plainDir, 'node_modules'));
  const file = path.join(plainDir, CONTENT_FILE);
  const source = readFileSync(file, 'utf8');
  const start = YIELD_START.exec(source);
  if (!start) throw new Error(`${CONTENT_FILE}: yieldOf not found; update this benchmark`);
  const at = start.index + start[0].length;
  writeFileSync(file, source.slice(0, at) + PLAIN_RETURN + source.slice(at));
  for (const dir of [root, plainDir]) execFileSync(process.execPath, ['scripts/build.js'], { cwd: dir, stdio: 'ignore' });
}

interface Run {
  inCrawlPps: number;
  wholePps: number;
  cpuUsPerPage: number;
}

function crawl(dir: string, url: string): Promise<Run> {
  const data = mkdtempSync(path.join(work, 'data-'));
  const args = ['bin/owl.js', 'crawl', url, '--max-pages', String(pages), '--max-depth', '1000', '--concurrency', '32', '--per-host', '32', '--host-delay', '0', '--json'];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, OWL_DATA_DIR: data, OWL_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b));
  return new Promise<Run>((resolve, reject) => {
    child.on('exit', (code) => {
      const wall = (performance.now() - started) / 1000;
      rmSync(data, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`owl crawl in ${dir} exited ${code}`));
      const j = JSON.parse(out.trim().split('\n').at(-1)!) as { pages: number; pagesPerSecond: number; cpuSeconds: number };
      if (j.pages !== pages) return reject(new Error(`owl crawl in ${dir} fetched ${j.pages} of ${pages} pages`));
      resolve({ inCrawlPps: j.pagesPerSecond, wholePps: j.pages / wall, cpuUsPerPage: (j.cpuSeconds / j.pages) * 1e6 });
    });
  });
}

async function startSite(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/site.ts', String(pages), '20', '12000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve));
  return { url: JSON.parse(line).url, stop: () => child.kill('SIGTERM') };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

let site: { url: string; stop: () => void } | undefined;
try {
  buildPlain();
  site = await startSite();
  console.log(`bench site: ${pages} pages; ${rounds} rounds of owl crawl (metadata, the default) and the plain crawl, alternating\n`);
  console.log('round  record in-crawl p/s  plain in-crawl p/s  ratio | record whole p/s  plain whole p/s  ratio | CPU µs/page record  plain');
  const ratios = { inCrawl: [] as number[], whole: [] as number[], cpu: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const order: Array<['record' | 'plain', string]> = [['record', root], ['plain', plainDir]];
    if (r % 2 === 1) order.reverse();
    const got: Partial<Record<'record' | 'plain', Run>> = {};
    for (const [name, dir] of order) got[name] = await crawl(dir, site.url);
    const a = got.record!;
    const b = got.plain!;
    ratios.inCrawl.push(a.inCrawlPps / b.inCrawlPps);
    ratios.whole.push(a.wholePps / b.wholePps);
    ratios.cpu.push(a.cpuUsPerPage / b.cpuUsPerPage);
    console.log(
      `${String(r + 1).padStart(5)}  ${a.inCrawlPps.toFixed(0).padStart(18)}  ${b.inCrawlPps.toFixed(0).padStart(18)}  ${(a.inCrawlPps / b.inCrawlPps).toFixed(3)} | ` +
        `${a.wholePps.toFixed(0).padStart(16)}  ${b.wholePps.toFixed(0).padStart(15)}  ${(a.wholePps / b.wholePps).toFixed(3)} | ${a.cpuUsPerPage.toFixed(0).padStart(18)}  ${b.cpuUsPerPage.toFixed(0).padStart(5)}`,
    );
  }
  console.log(`\nmedian of ${rounds} rounds: record / plain in-crawl pages/s ${median(ratios.inCrawl).toFixed(3)}, whole process ${median(ratios.whole).toFixed(3)}, CPU per page ${median(ratios.cpu).toFixed(3)}`);
} finally {
  site?.stop();
  execFileSync('git', ['worktree', 'remove', '--force', plainDir], { cwd: root, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}
