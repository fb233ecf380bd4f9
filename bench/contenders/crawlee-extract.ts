/**
 * Crawlee's CheerioCrawler doing the benchmark's 5-field extraction (bench-extract.ts) on every
 * page and `pushData`-ing the record into its in-memory dataset, as a Crawlee user would. The same
 * settings as bench/contenders/crawlee.ts (fixed concurrency, in-memory storage).
 * Usage: node --import tsx bench/contenders/crawlee-extract.ts <url> <maxPages> <concurrency>
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
    async requestHandler({ $, request, enqueueLinks, pushData }) {
      fetched++;
      const next = $('nav a.l0').first().attr('href');
      await pushData({
        url: request.loadedUrl ?? request.url,
        heading: $('header h1').first().text().trim().replace(/\s+/g, ' '),
        next: next === undefined ? null : new URL(next, request.loadedUrl ?? request.url).href,
        links: $('nav a').map((_, a) => $(a).attr('href')).get(),
        intro: $('main p').first().text().trim().replace(/\s+/g, ' '),
        lang: $('html').attr('lang') ?? null,
      });
      await enqueueLinks({ strategy: 'same-hostname' });
    },
  },
  config,
);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await crawler.run([start]);
report('Crawlee CheerioCrawler, 5-field extract + pushData', fetched, t0, cpu0);
process.exit(0);
