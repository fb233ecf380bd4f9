/**
 * The benchmark site, run as its own process so it does not share an event loop with the
 * crawler being measured: N pages of about `bytes` bytes with `links` links each, generated
 * once into memory (up to PREBUILT pages; a larger site makes each page when it is asked for, the
 * same bytes every time, so a site of a million pages does not hold 12 GB). Page 0 links to page 1,
 * every page i links to i+1 and to pseudo-random others, so a crawl from page 0 reaches all N pages.
 * Prints `{"url": …}` on stdout when ready.
 * Usage: node --import tsx bench/site.ts [pages=5000] [links=20] [bytes=12000]
 */
import http from 'node:http';
import { rng } from './rng.ts';

const pages = Number(process.argv[2] ?? 5000);
const links = Number(process.argv[3] ?? 20);
const bytes = Number(process.argv[4] ?? 12000);

const FILLER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';

function page(i: number): Buffer {
  const random = rng(i + 1);
  const targets = [(i + 1) % pages];
  while (targets.length < links) targets.push(Math.floor(random() * pages));
  const anchors = targets.map((t, k) => `<li><a href="/page/${t}" class="l${k}">Page ${t}</a></li>`).join('\n');
  let html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page ${i}</title>` +
    `<meta name="viewport" content="width=device-width"><script>var page=${i};</script></head><body><header><h1>Page ${i}</h1></header>` +
    `<nav><ul>\n${anchors}\n</ul></nav><main>`;
  while (html.length < bytes - 40) html += `<p>${FILLER}</p>\n`;
  html += '</main></body></html>';
  return Buffer.from(html);
}

const PREBUILT = 100_000;
const built = pages <= PREBUILT ? Array.from({ length: pages }, (_, i) => page(i)) : null;
const body = (i: number): Buffer => (built ? built[i]! : page(i));
// On large sites, a line on stderr per 100,000 pages served: the crawl's pace along the way. Every
// crawler asks for page 0 first and once (it is the seed; links to it are de-duplicated), so a
// request for it starts the count of a new crawl.
const PROGRESS_EVERY = 100_000;
let served = 0;
let startedAt = 0;
let lastAt = 0;
const server = http.createServer((req, res) => {
  const now = performance.now();
  const m = /^\/page\/(\d+)$/.exec(req.url ?? '');
  const i = m ? Number(m[1]) : req.url === '/' ? 0 : -1;
  if (i === 0) {
    served = 0;
    startedAt = now;
    lastAt = now;
  }
  if (i >= 0 && i < pages) {
    const b = body(i);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': b.length });
    res.end(b);
    if (pages >= 2 * PROGRESS_EVERY && ++served % PROGRESS_EVERY === 0) {
      process.stderr.write(`${JSON.stringify({ served, seconds: Number(((now - startedAt) / 1000).toFixed(1)), pagesPerSecond: Math.round(PROGRESS_EVERY / ((now - lastAt) / 1000)) })}\n`);
      lastAt = now;
    }
  } else {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
    res.end('not found');
  }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}/page/0` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
