/**
 * `owl crawl --formats --extract --sitemaps --output` and `owl export`, run as users run them:
 * the records written while crawling are the pages' records, in the format the file name says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DETAIL_RULES, PRODUCTS, SITEMAP_ONLY_PATHS, startCatalogueSite, type CatalogueSite } from '../fixtures/scrape/catalogue.ts';
import { runOwl as owl } from './serve-process.ts';



describe('owl crawl --output and owl export', () => {
  let site: CatalogueSite;
  let dir: string;
  let rules: string;
  before(async () => {
    site = await startCatalogueSite();
    dir = mkdtempSync(path.join(tmpdir(), 'owl-output-'));
    rules = path.join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify(DETAIL_RULES));
  });
  after(async () => {
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a CSV while crawling: url, title, then each field in the order the rules give them', { timeout: 120_000 }, async () => {
    const out = path.join(dir, 'products.csv');
    const res = await owl(['crawl', `${site.url}/`, '--max-depth', '3', '--formats', 'metadata,markdown', '--extract', rules, '--output', out, '--json'], { OWL_DATA_DIR: dir });
    assert.equal(res.code, 0, res.stderr);
    const summary = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.status, 'done');
    const rows = readFileSync(out, 'utf8').trimEnd().split('\r\n');
    assert.equal(rows[0], ['url', 'title', ...Object.keys(DETAIL_RULES.fields)].join(','));
    assert.equal(rows.length - 1, summary.records);
    assert.equal(summary.records, summary.pages + summary.failed);
    const mug = rows.find((r) => r.startsWith(`${site.url}/products/1,`));
    assert.ok(mug, 'product 1 is a row');
    assert.ok(mug.includes(',Barn Owl Mug,12.5,1001,'), mug);
    for (const p of SITEMAP_ONLY_PATHS) assert.ok(rows.some((r) => r.startsWith(`${site.url}${p},`)), `${p} from the sitemaps`);
  });

  it('writes JSON Lines to stdout with --output - (the summary then goes to stderr), and owl export gives the same records', { timeout: 120_000 }, async () => {
    const res = await owl(['crawl', `${site.url}/products?page=1`, '--max-depth', '1', '--sitemaps', 'skip', '--extract', rules, '--output', '-', '--json'], { OWL_DATA_DIR: dir });
    assert.equal(res.code, 0, res.stderr);
    const records = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = JSON.parse(res.stderr.trim().split('\n').at(-1)!);
    assert.equal(records.length, summary.records);
    assert.ok(records.every((r) => !r.url.endsWith('.xml')), 'sitemaps skipped');
    for (const n of [1, 2, 3]) assert.ok(records.some((r) => r.url === `${site.url}/products/${n}`), `product ${n} reached from the listing`);
    const product = records.find((r) => r.url === `${site.url}/products/2`);
    assert.equal(product.data.price, PRODUCTS[1]!.expected.price);

    const exported = await owl(['export', summary.jobId, '--format', 'jsonl'], { OWL_DATA_DIR: dir });
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(exported.stdout.trim().split('\n').map((l) => JSON.parse(l)), records);
    const csv = path.join(dir, 'again.csv');
    const toFile = await owl(['export', summary.jobId, '--output', csv], { OWL_DATA_DIR: dir });
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(readFileSync(csv, 'utf8').trimEnd().split('\r\n').length, records.length + 1);
  });

  it('refuses bad scraping flags and unknown jobs with exit 2 and one line naming the problem', { timeout: 120_000 }, async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ fields: { price: 'div:frobnicate' } }));
    for (const [args, message] of [
      [['crawl', `${site.url}/`, '--formats', 'metadata,md'], /formats\[1\]: unknown format "md"/],
      [['crawl', `${site.url}/`, '--extract', bad], /extract\.fields\.price: unknown pseudo-class :frobnicate/],
      [['crawl', `${site.url}/`, '--extract', path.join(dir, 'none.json')], /--extract .*none\.json: no such file/],
      [['crawl', `${site.url}/`, '--output', path.join(dir, 'x.xlsx')], /must end in \.jsonl, \.json or \.csv/],
      [['export', '00000000-0000-4000-8000-000000000000'], /no job 00000000-0000-4000-8000-000000000000/],
    ] as const) {
      const res = await owl([...args], { OWL_DATA_DIR: dir });
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message);
    }
  });
});
