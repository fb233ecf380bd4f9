/**
 * Crawlee's CheerioCrawler as a peer: in-memory storage, fixed concurrency (min = max =
 * desired, or it ramps up slowly), the site bounded instead of maxRequestsPerCrawl (field notes).
 * Usage: node --import tsx bench/contenders/crawlee.ts <url> <maxPages> <concurrency>
 */
import { CheerioCrawler, Configuration, log, LogLevel } from 'crawlee';
import { report } from './measure.ts';

const [start, , concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
log.setLevel(LogLevel.ERROR);
const config = new Configuration({ persistStorage: false, purgeOnStart: true });
let fetched = 0;
const crawler = new CheerioCrawler(
  {
    minConcurrency: concurrency,
    maxConcurrency: concurrency,
    autoscaledPoolOptions: { desiredConcurrency: concurrency },
    maxRequestRetries: 0,
    async requestHandler({ enqueueLinks }) {
      fetched++;
      await enqueueLinks({ strategy: 'same-hostname' });
    },
  },
  config,
);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await crawler.run([start]);
report('Crawlee CheerioCrawler', fetched, t0, cpu0);
process.exit(0);
