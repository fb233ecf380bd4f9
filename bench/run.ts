/**
 * `npm run bench`: every benchmark, one after the other, each printing its figures next to a
 * baseline measured in the same run. Pass names to run a subset: npm run bench -- crawl api
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const BENCHES: Record<string, string> = {
  crawl: 'bench/crawl.ts',
  links: 'bench/links.ts',
  api: 'bench/api.ts',
  store: 'bench/store-sqlite.ts',
  frontier: 'bench/frontier.ts',
  browser: 'bench/browser.ts',
};
const root = path.resolve(import.meta.dirname, '..');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
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
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${name} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
