/**
 * `npm run bench`: every benchmark, one after the other, each printing its figures next to a
 * baseline measured in the same run. Pass names to run a subset: npm run bench -- crawl api; flags
 * go to the benchmarks chosen: npm run bench -- crawl --pages 1000000
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const BENCHES: Record<string, string> = {
  crawl: 'bench/crawl.ts',
  links: 'bench/links.ts',
  scrape: 'bench/scrape.ts',
  'record-overhead': 'bench/record-overhead.ts',
  'scrape-units': 'bench/scrape-units.ts',
  api: 'bench/api.ts',
  'auth-timing': 'bench/auth-timing.ts',
  store: 'bench/store-sqlite.ts',
  frontier: 'bench/frontier.ts',
  browser: 'bench/browser.ts',
  console: 'bench/console.ts',
  webhooks: 'bench/webhooks.ts',
  startup: 'bench/startup.ts',
};
const root = path.resolve(import.meta.dirname, '..');
// Names choose benchmarks; flags (and their values) go to each one chosen: npm run bench -- crawl --pages 1000000
const args = process.argv.slice(2);
const wanted: string[] = [];
const forwarded: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a.startsWith('-')) {
    forwarded.push(a);
    // A flag's value follows it unless the flag is a switch (--no-…) or carries it (--pages=5).
    const next = args[i + 1];
    if (!a.startsWith('--no-') && !a.includes('=') && next !== undefined && !next.startsWith('-') && !(next in BENCHES)) forwarded.push(args[++i]!);
  } else if (/^\d+$/.test(a)) forwarded.push(a); // a positional figure: npm run bench -- scrape 2000
  else wanted.push(a);
}
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}
let failed = 0;
for (const [name, file] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  if (!existsSync(path.join(root, file))) continue;
  console.log(`\n=== ${name} (${file}) ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...forwarded], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${name} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
