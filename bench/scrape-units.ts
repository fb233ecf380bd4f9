/**
 * CPU per page of the scraping building blocks, next to the libraries' own cost on the same pages:
 * link scan (links only / with head tags), metadata, a 5-field extraction, main content as text
 * and Markdown (ours) against Readability alone (linkedom + Readability.parse) and turndown alone
 * (turndown on the page's HTML with its own parser), the content codec, and scrapePage per format.
 * Pages: a generated 12 KB product page, and the 20 real documentation pages of
 * test/fixtures/scrape/real (14–130 KB).
 * Run: node --import tsx bench/scrape-units.ts [rounds]
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Readability } from '@mozilla/readability';
import { gfm } from '@joplin/turndown-plugin-gfm';
import { parseDocument } from 'htmlparser2';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';
import { extractPage } from '../src/crawl/links.ts';
import { decodeContent, encodeContent } from '../src/scrape/content-codec.ts';
import { applyExtract } from '../src/scrape/extract.ts';
import { scrapePage } from '../src/scrape/index.ts';
import { extractMainContent } from '../src/scrape/main-content.ts';
import { buildMetadata } from '../src/scrape/metadata.ts';
import { compileScrapeOptions, validateScrapeOptions } from '../src/scrape/options.ts';

const rounds = Number(process.argv[2] ?? 5);
v8.setFlagsFromString('--expose-gc');
/** process.cpuUsage counts the GC's helper threads too: collect a unit's garbage before the next is timed. */
const gc = vm.runInNewContext('gc') as () => void;
const PAGE_URL = 'https://shop.example.com/catalog/item-7.html';

function productPage(): string {
  const head =
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Barn Owl Mug – Example Shop</title>' +
    '<meta name="description" content="A mug with a barn owl."><meta property="og:title" content="Barn Owl Mug"><meta property="og:image" content="/img/7.jpg">' +
    '<meta name="twitter:card" content="summary"><link rel="canonical" href="/catalog/item-7.html"><link rel="stylesheet" href="/app.css">' +
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Barn Owl Mug","offers":{"price":"12.50"}}</script>' +
    '<script src="/app.js" defer></script></head><body>';
  const nav = `<header><nav>${Array.from({ length: 12 }, (_, i) => `<a href="/cat/${i}">Category ${i}</a>`).join(' ')}</nav></header>`;
  let main = '<main><h1 class="name">Barn Owl Mug</h1><p class="price">$12.50</p><p class="sku">SKU 1007</p><img class="main" src="../img/7.jpg" alt="mug">';
  main += '<span class="stock" data-available="yes">In stock</span><ul class="tags"><li class="tag">kitchen</li><li class="tag">owls</li></ul>';
  while (main.length < 9000) main += '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam.</p>';
  main += '</main>';
  const footer = `<footer>${Array.from({ length: 8 }, (_, i) => `<a href="/info/${i}">Info ${i}</a>`).join(' ')}<p>© Example Shop</p></footer></body></html>`;
  return head + nav + main + footer;
}

const RULES = {
  fields: {
    name: 'h1.name',
    price: { selector: '.price', type: 'number' },
    sku: { selector: '.sku', type: 'integer' },
    image: { selector: 'img.main', attr: 'src', type: 'url' },
    tags: { selector: '.tag', all: true },
  },
};

const realDir = path.join(import.meta.dirname, '../test/fixtures/scrape/real');
const realPages = readdirSync(realDir)
  .filter((f) => f.endsWith('.html'))
  .map((f) => readFileSync(path.join(realDir, f), 'utf8'));

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
turndown.use(gfm);
const withExtract = compileScrapeOptions(validateScrapeOptions({ extract: RULES }));
const metadataOnly = compileScrapeOptions(validateScrapeOptions({}));
const withMarkdown = compileScrapeOptions(validateScrapeOptions({ formats: ['markdown'] }));
const LIMITS = { maxContentBytes: 1 << 20 };

/**
 * CPU µs (user + system, this process) per page: every page of the set once per iteration,
 * `iterations` times, after a warm-up; median of rounds. CPU time, not wall time: the machine is
 * shared, and other processes' load would otherwise count.
 */
async function measure(pages: string[], iterations: number, fn: (html: string) => unknown): Promise<number> {
  // Warm up as long as a measured round of light units, so the JIT has settled.
  const warmUp = Math.max(3, Math.min(iterations, 100));
  for (let w = 0; w < warmUp; w++) for (const p of pages) await fn(p);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) for (const p of pages) await fn(p);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / (iterations * pages.length));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const product = productPage();
const sets: Array<[string, string[], number]> = [
  [`generated product page (${(product.length / 1024).toFixed(1)} KB)`, [product], 200],
  [`${realPages.length} real documentation pages (mean ${(realPages.reduce((n, p) => n + p.length, 0) / realPages.length / 1024).toFixed(0)} KB)`, realPages, 3],
];

const units: Array<[string, (html: string) => unknown]> = [
  ['extractPage, links only', (h) => extractPage(h, PAGE_URL)],
  ['extractPage + metadata', (h) => {
    const p = extractPage(h, PAGE_URL, { metadata: true });
    return buildMetadata(p.title, p.head!);
  }],
  ['5-field extract (parse + rules)', (h) => applyExtract(withExtract.extract!, parseDocument(h), PAGE_URL)],
  ['Readability alone (linkedom + parse)', (h) => new Readability(parseHTML(h).document as never).parse()],
  ['turndown alone (whole page)', (h) => turndown.turndown(h)],
  ['main content: text', (h) => extractMainContent(h, PAGE_URL, { onlyMainContent: true, markdown: false })],
  ['main content: text + Markdown', (h) => extractMainContent(h, PAGE_URL, { onlyMainContent: true, markdown: true })],
  ['scrapePage metadata only', (h) => scrapePage({ finalUrl: PAGE_URL, contentType: 'text/html', body: h }, metadataOnly, LIMITS)],
  ['scrapePage + 5-field extract', (h) => scrapePage({ finalUrl: PAGE_URL, contentType: 'text/html', body: h }, withExtract, LIMITS)],
  ['scrapePage + markdown', (h) => scrapePage({ finalUrl: PAGE_URL, contentType: 'text/html', body: h }, withMarkdown, LIMITS)],
];

console.log(`node ${process.version}; median of ${rounds} rounds; µs of CPU per page (shared machine: compare within a run)`);
for (const [name, pages, iterations] of sets) {
  console.log(`\n${name}`);
  for (const [unit, fn] of units) {
    // Whole-page turndown and Readability cost milliseconds: fewer iterations keep the run short.
    const heavy = unit.includes('alone') || unit.includes('main content') || unit.includes('markdown');
    const us = await measure(pages, heavy ? Math.max(1, Math.floor(iterations / 10)) : iterations, fn);
    console.log(`  ${unit.padEnd(38)} ${us.toFixed(1).padStart(9)} µs/page`);
  }
}

// The content codec on a record with Markdown of the product page.
const record = await scrapePage({ finalUrl: PAGE_URL, contentType: 'text/html', body: product }, compileScrapeOptions(validateScrapeOptions({ formats: ['markdown', 'links'], extract: RULES })), LIMITS);
const json = JSON.stringify(record);
const blob = encodeContent(record);
const enc = await measure([''], 300, () => encodeContent(record));
const dec = await measure([''], 300, () => decodeContent(blob));
console.log(`\ncontent codec on a ${json.length}-byte record: ${blob.length} bytes stored (${((blob.length / json.length) * 100).toFixed(0)} %), encode ${enc.toFixed(1)} µs, decode ${dec.toFixed(1)} µs`);
