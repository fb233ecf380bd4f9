/**
 * The bare baseline: undici with keep-alive, regex href extraction, a Set of seen URLs,
 * nothing stored, no metrics. Usage: node --import tsx bench/contenders/baseline.ts <url> <maxPages> <concurrency>
 */
import { Agent, request } from 'undici';
import { report } from './measure.ts';

const [start, maxPagesArg, concurrencyArg] = process.argv.slice(2);
const maxPages = Number(maxPagesArg);
const concurrency = Number(concurrencyArg);
const origin = new URL(start).origin;
const agent = new Agent({ connections: concurrency, pipelining: 1 });
const seen = new Set<string>([start]);
const queue: string[] = [start];
const HREF = /href="([^"]*)"/g;
let fetched = 0;
let active = 0;

const t0 = performance.now();
const cpu0 = process.cpuUsage();
await new Promise<void>((done) => {
  const pump = () => {
    while (active < concurrency && queue.length > 0) {
      const url = queue.shift()!;
      active++;
      void crawl(url).finally(() => {
        active--;
        if (queue.length === 0 && active === 0) done();
        else pump();
      });
    }
  };
  pump();
});
report('bare baseline (undici + regex + Set)', fetched, t0, cpu0);
await agent.close();

async function crawl(url: string): Promise<void> {
  const res = await request(url, { dispatcher: agent });
  const html = await res.body.text();
  if (res.statusCode !== 200) return;
  fetched++;
  for (const m of html.matchAll(HREF)) {
    const link = m[1].startsWith('/') ? origin + m[1] : m[1];
    if (!link.startsWith(origin) || seen.has(link) || seen.size >= maxPages) continue;
    seen.add(link);
    queue.push(link);
  }
}
