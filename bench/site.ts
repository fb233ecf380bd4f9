/**
 * The benchmark site, run as its own process so it does not share an event loop with the
 * crawler being measured: N pages of about `bytes` bytes with `links` links each, generated
 * once into memory. Page 0 links to page 1, every page i links to i+1 and to pseudo-random
 * others, so a crawl from page 0 reaches all N pages. Prints `{"url": …}` on stdout when ready.
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

const body = Array.from({ length: pages }, (_, i) => page(i));
const server = http.createServer((req, res) => {
  const m = /^\/page\/(\d+)$/.exec(req.url ?? '');
  const i = m ? Number(m[1]) : req.url === '/' ? 0 : -1;
  if (i >= 0 && i < pages) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body[i].length });
    res.end(body[i]);
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
