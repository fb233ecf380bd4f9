/**
 * Link extraction cost per page: the bare baseline's regex + Set, extractPage (links only, and
 * with the head tags metadata needs), and the htmlparser2 reference, on a generated ~12 KB page
 * with 20 links.
 * Run: node --import tsx bench/links.ts [iterations]
 */
import assert from 'node:assert/strict';
import { extractPage } from '../src/crawl/links.ts';
import { referenceExtractPage } from '../test/crawl/links-reference.ts';

const PAGE_URL = 'https://shop.example.com/catalog/page-7.html';
const TARGET_BYTES = 12 * 1024;
const LINKS = 20;

/** A page shaped like a typical site: head assets, nav, paragraphs, an inline script, links. */
function buildPage(): string {
  const hrefs = [
    '/', '/catalog/', 'page-8.html', 'page-6.html', '/about', '/contact?ref=footer', 'https://cdn.example.com/docs/guide',
    '//blog.example.com/2024/05/post', '#top', '/catalog/item/1234', '/catalog/item/1235?color=red&amp;size=m',
    'item/1236', 'https://other.org/partner', '/search?q=owl', 'mailto:shop@example.com', '/login',
    '/cart', '/catalog/sale/', 'https://example.com/terms', '/privacy#cookies',
  ];
  assert.equal(hrefs.length, LINKS);
  const head = [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    '<title>Catalog page 7 &ndash; Example Shop</title>',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="stylesheet" href="/static/app.css"><link rel="icon" href="/favicon.ico">',
    '<script src="/static/app.js" defer></script>',
    '<style>.card{display:flex;gap:8px}.card > img{width:64px}</style></head><body>',
  ].join('\n');
  const parts: string[] = [head];
  let linkIndex = 0;
  let block = 0;
  const tail = '<script>window.dataLayer=window.dataLayer||[];dataLayer.push({"page":"catalog","n":7});</script></body></html>';
  const perLink = Math.floor((TARGET_BYTES - head.length - tail.length) / LINKS);
  while (linkIndex < LINKS) {
    let chunk = `<div class="card card-${block}" data-id="${1000 + block}"><img src="/img/${block}.jpg" alt="Product ${block}" width="64" height="64">`;
    chunk += `<a class="card-link" href="${hrefs[linkIndex]}" title="Item ${linkIndex}">Item ${linkIndex}</a>`;
    linkIndex++;
    while (chunk.length < perLink - 60) {
      chunk += `<p class="desc">Lorem ipsum dolor sit amet, consectetur adipiscing elit &amp; sed do eiusmod tempor ${block}.</p>`;
    }
    chunk += '</div>\n';
    parts.push(chunk);
    block++;
  }
  parts.push(tail);
  return parts.join('');
}

/** The bare baseline's extraction: what the "undici + regex href + Set" loop does. */
function regexOnly(html: string): Set<string> {
  const found = new Set<string>();
  const re = /href="([^"]*)"/g;
  let m: RegExpExecArray | null;
  for (m = re.exec(html); m !== null; m = re.exec(html)) found.add(m[1]);
  return found;
}

/** The baseline plus the resolution a crawler cannot skip (new URL per href). */
function regexWithUrl(html: string, pageUrl: string): Set<string> {
  const found = new Set<string>();
  const re = /href="([^"]*)"/g;
  let m: RegExpExecArray | null;
  for (m = re.exec(html); m !== null; m = re.exec(html)) {
    try {
      const u = new URL(m[1], pageUrl);
      if (u.protocol === 'http:' || u.protocol === 'https:') {
        u.hash = '';
        found.add(u.href);
      }
    } catch {
      // not a URL
    }
  }
  return found;
}

/** µs per call of fn over `iterations` calls (after a warm-up). */
function timeOnce(iterations: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const iterations = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 9);
const html = buildPage();
const page = extractPage(html, PAGE_URL);
assert.deepEqual(page, referenceExtractPage(html, PAGE_URL), 'extractPage differs from the reference on the bench page');
assert.deepEqual(extractPage(html, PAGE_URL, { metadata: true }), referenceExtractPage(html, PAGE_URL, { metadata: true }), 'metadata mode differs on the bench page');
console.log(`page: ${html.length} bytes, ${regexOnly(html).size} regex hrefs, ${page.links.length} extracted links, title ${JSON.stringify(page.title)}`);
console.log(`node ${process.version}; ${rounds} interleaved rounds of ${iterations} pages (reference: ${iterations / 10}); median and min shown,`);
console.log('because the machine is shared: compare ratios, not absolute figures.');

const contenders: Array<[string, number, () => unknown]> = [
  ['regex href + Set (baseline)', iterations, () => regexOnly(html)],
  ['regex href + new URL + Set', iterations, () => regexWithUrl(html, PAGE_URL)],
  ['extractPage', iterations, () => extractPage(html, PAGE_URL)],
  ['extractPage metadata', iterations, () => extractPage(html, PAGE_URL, { metadata: true })],
  ['htmlparser2 reference', Math.max(1, Math.floor(iterations / 10)), () => referenceExtractPage(html, PAGE_URL)],
];
for (const [, n, fn] of contenders) timeOnce(Math.min(n, 1000), fn);
const samples = contenders.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  contenders.forEach(([, n, fn], k) => {
    samples[k].push(timeOnce(n, fn));
  });
}
const med = samples.map(median);
contenders.forEach(([name], k) => {
  console.log(`${name.padEnd(30)} ${med[k].toFixed(2).padStart(8)} µs/page (min ${Math.min(...samples[k]).toFixed(2)})`);
});
const [regex, regexUrl, fast, withMetadata, reference] = med;
console.log(`extractPage / regex baseline:   ${(fast / regex).toFixed(2)}x (goal <= 2x)`);
console.log(`extractPage / regex + new URL:  ${(fast / regexUrl).toFixed(2)}x`);
console.log(`metadata / links only:          ${(withMetadata / fast).toFixed(2)}x`);
console.log(`reference / extractPage:        ${(reference / fast).toFixed(1)}x`);
