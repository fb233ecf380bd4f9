/**
 * The web console on the other store: `owl serve` on PostgreSQL (a throw-away schema, in-process
 * workers) with keys required, driven in Chromium after signing in with a key that `owl keys create`
 * made in PostgreSQL. A crawl started from the form finishes live, a page shows its extracted
 * fields, the CSV download equals the API export, and the sites view reads the results from PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-console.ts';
import { runOwl, startServe, type ServeProcess } from '../bin/serve-process.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { assertAccessible, jobStatus, launchChromium } from './browser.ts';
import { PRODUCTS, startShopSite, type ShopSite } from './shop-site.ts';

describe('the web console on PostgreSQL', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'owl-console-pg-'));
  let schema: TestSchema;
  let site: ShopSite;
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let key = '';

  before(async () => {
    await buildConsole(path.join(dir, 'console'));
    schema = await createTestSchema();
    site = await startShopSite();
    serve = await startServe({
      DATABASE_URL: schema.url(),
      OWL_IN_PROCESS_WORKERS: 'true',
      OWL_CONSOLE_DIR: path.join(dir, 'console'),
      OWL_DATA_DIR: dir,
      OWL_ALLOW_PRIVATE_TARGETS: 'true',
      OWL_HOST_DELAY_MS: '0',
      OWL_AUTH: 'required',
    });
    // The key lives in PostgreSQL, so `owl keys create` writes it there beside the running server.
    const made = await runOwl(['keys', 'create', '--name', 'pg console', '--scopes', 'jobs:read,jobs:write'], { DATABASE_URL: schema.url(), OWL_DATA_DIR: dir, OWL_LOG_LEVEL: 'warn' });
    assert.equal(made.code, 0, made.stderr);
    key = made.stdout.trim().split('\n').at(-1)!;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true })).newPage();
  });

  after(async () => {
    await browser?.close();
    site?.release('pg');
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await site?.close();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a crawl from the form and watches it finish live', async () => {
    await page.goto(serve.url);
    assert.equal((await fetch(`${serve.url}/jobs`)).status, 401);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'New crawl' }).first().click();
    await page.getByLabel('Seed URLs').fill(`${site.url}/\n${site.url}/hold/pg/1`);
    await page.getByLabel('Max pages').fill('20');
    await page.getByLabel('Depth').fill('1');
    await page.getByLabel('Rules as JSON').fill('{"fields": {"name": "h1.name", "price": {"selector": ".price", "type": "number"}}}');
    await page.getByRole('button', { name: 'Start crawl' }).click();
    await site.held('pg');
    await jobStatus(page, 'running');
    site.release('pg');
    await jobStatus(page, 'done');
    await page.locator('[data-stat="fetched"]').getByText(String(PRODUCTS + 3), { exact: true }).waitFor();
    await assertAccessible(page, 'job on PostgreSQL');
  });

  it('downloads the CSV equal to the API export, and shows a page with its extracted fields', async () => {
    const jobId = /#\/jobs\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const expected = await (await fetch(`${serve.url}/jobs/${jobId}/export?format=csv`, { headers: { authorization: `Bearer ${key}` } })).text();
    assert.equal(readFileSync((await download.path())!, 'utf8'), expected);
    assert.match(expected, /Product 3,31\.5/);
    await page.getByRole('link', { name: `${site.url}/p/3`, exact: true }).click();
    const fields = page.getByRole('table', { name: 'Extracted fields' });
    await fields.getByRole('row', { name: 'name Product 3' }).waitFor();
    await fields.getByRole('row', { name: 'price 31.5' }).waitFor();
  });

  it('reads per-site health from PostgreSQL', async () => {
    await page.getByRole('link', { name: 'Sites' }).click();
    const row = page.getByRole('row', { name: /^127\.0\.0\.1 / });
    await row.waitFor();
    assert.equal(await row.getByRole('cell').first().textContent(), String(PRODUCTS + 3));
  });
});
