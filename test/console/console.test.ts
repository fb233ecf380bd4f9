/**
 * The web console end to end, as a person uses it: Debian's Chromium (playwright-core) against a
 * real `owl serve` process crawling a fixture shop on loopback. Sign in with a key, try an
 * extraction rule on one URL, start the crawl from the form, watch it finish live, open a page
 * and see its extracted fields, download the CSV and the JSON Lines and compare them with the API
 * export, cancel a second crawl, read the sites view. Every view is checked with axe-core (no
 * serious or critical violation, light and dark) and photographed at 360 px and 1,440 px into
 * screenshots/console/ (gitignored). A hostile crawled page is shown without running anything.
 *
 * Keys are real: `owl serve` runs with OWL_AUTH=required and the keys are made by `owl keys
 * create` beside it, as an operator would. A wrong key is refused, the right one signs in; a
 * `jobs:read`-only key is offered no way to start a crawl and sees only its own sites; a second
 * `owl serve` with OWL_AUTH=off (loopback) opens the console without a sign-in.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build-console.ts';
import { Webhook } from 'standardwebhooks';
import { runOwl, startServe, type ServeProcess } from '../bin/serve-process.ts';
import { sendBody, startHttpFixture } from '../fixtures/http-fixture.ts';
import { assertAccessible, jobStatus, launchChromium, shoot } from './browser.ts';
import { PRODUCTS, startShopSite, type ShopSite } from './shop-site.ts';

const RULES = '{"fields": {"name": "h1.name", "price": {"selector": ".price", "type": "number"}}}';

describe('the web console, in Chromium against owl serve', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-console-'));
  const consoleDir = path.join(dataDir, 'console');
  let site: ShopSite;
  let serve: ServeProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const problems: string[] = [];
  const requestUrls: string[] = [];
  let firstJob = '';
  let KEY = '';
  let readKey = '';
  let adminKey = '';
  const withKey = () => ({ authorization: `Bearer ${KEY}` });
  /** `owl keys create` beside the running server (its control socket); the key is the last line. */
  const createKey = async (name: string, scopes: string) => {
    const made = await runOwl(['keys', 'create', '--name', name, '--scopes', scopes], { OWL_DATA_DIR: dataDir, OWL_LOG_LEVEL: 'warn' });
    assert.equal(made.code, 0, made.stderr);
    return made.stdout.trim().split('\n').at(-1)!;
  };

  before(async () => {
    await buildConsole(consoleDir);
    site = await startShopSite();
    serve = await startServe({
      OWL_AUTH: 'required', OWL_DATA_DIR: dataDir, OWL_CONSOLE_DIR: consoleDir, OWL_ALLOW_PRIVATE_TARGETS: 'true', OWL_HOST_DELAY_MS: '0',
      // A schedule may run every 2 s, looked at every 200 ms: the schedule test sees two runs quickly.
      OWL_MIN_SCHEDULE_INTERVAL_MS: '1000', OWL_SCHEDULER_TICK_MS: '200',
    });
    KEY = await createKey('console', 'jobs:read,jobs:write');
    readKey = await createKey('watcher', 'jobs:read');
    adminKey = await createKey('operator', 'admin');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    context.on('request', (r) => requestUrls.push(r.url()));
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      // 401s of the sign-in steps are logged by Chromium as failed loads; anything else is a problem.
      if (msg.type() === 'error' && !/status of 401/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    site?.release('first');
    site?.release('second');
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await site?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('asks for a key, refuses a wrong one, signs in with the right one and keeps it out of every URL', async () => {
    await page.goto(serve.url);
    const keyField = page.getByLabel('API key');
    await keyField.waitFor();
    await assertAccessible(page, 'sign-in');
    await shoot(page, 'sign-in');
    // The console's files came without a key; the API refuses any call without one.
    assert.equal((await fetch(`${serve.url}/jobs`)).status, 401);
    for (const wrong of ['not-the-key', `${KEY.slice(0, -4)}AAAA`]) {
      await keyField.fill(wrong);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('This key was refused.').waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('owl.apiKey')), null, 'a refused key is not kept');
    }
    await keyField.fill(KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Jobs', 'focus goes to the heading of the first view');
    assert.equal(await page.title(), 'Jobs · sparkling-owl-spin');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('owl.apiKey')), KEY);
    await page.getByRole('banner').getByText('console', { exact: true }).waitFor();
    assert.deepEqual(requestUrls.filter((u) => u.includes(KEY)), []);
  });

  it('works from the keyboard: a skip link first, every control in reading order, each with a visible focus ring', async () => {
    await page.goto('about:blank');
    await page.goto(`${serve.url}/#/new`);
    await page.getByRole('heading', { name: 'New crawl', level: 1 }).waitFor();
    const visited: string[] = [];
    for (let i = 0; i < 16; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const label = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : null;
        const name = el.getAttribute('aria-label') ?? label ?? el.closest('label')?.textContent ?? el.textContent ?? '';
        const style = getComputedStyle(el);
        return { name: name.trim(), ring: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2 };
      });
      assert.ok(focused.ring, `no visible focus ring on ${focused.name}`);
      visited.push(focused.name);
    }
    assert.deepEqual(visited.slice(0, 14), [
      'Skip to content', 'sparkling-owl-spin', 'Jobs', 'New crawl', 'Schedules', 'Sites', 'Sign out',
      'Seed URLs', 'Max pages', 'Depth', 'Scope', 'Mode', 'Sitemaps', 'links',
    ]);
    // The skip link moves focus to the view's heading.
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'New crawl');
  });

  it('previews an extraction rule on one URL, then starts the crawl from the form', async () => {
    await page.getByRole('link', { name: 'New crawl' }).first().click();
    await page.getByRole('heading', { name: 'New crawl', level: 1 }).waitFor();
    await page.getByLabel('Seed URLs').fill(`${site.url}/\n${site.url}/hold/first/1`);
    await page.getByLabel('Max pages').fill('20');
    await page.getByLabel('Depth').fill('2');
    await page.getByRole('checkbox', { name: 'links' }).check();
    // The rule editor: one row per field, written into the rules' JSON as it is edited.
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Field 1 name').fill('name');
    await page.getByLabel('Field 1 selector').fill('h1.name');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Field 2 name').fill('price');
    await page.getByLabel('Field 2 selector').fill('.price');
    await page.getByLabel('Field 2 type').selectOption('number');
    assert.deepEqual(JSON.parse(await page.getByLabel('Rules as JSON').inputValue()), JSON.parse(RULES));
    await page.getByLabel('Preview URL').fill(`${site.url}/p/2`);
    await page.getByRole('button', { name: 'Try on one URL' }).click();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.getByRole('cell', { name: 'Product 2', exact: true }).waitFor();
    assert.equal(await preview.getByRole('row', { name: /^price/ }).getByRole('cell').textContent(), '21');
    await preview.getByText('complete', { exact: true }).waitFor();
    // The Markdown of the page, rendered: the product's text is there, as text.
    await preview.getByText(/sturdy owl figurine carved from oak/).waitFor();
    await assertAccessible(page, 'new crawl with a preview');
    await shoot(page, 'new-crawl');

    await page.getByRole('button', { name: 'Start crawl' }).click();
    await page.getByRole('heading', { name: /^Job [0-9a-f-]{36}$/ }).waitFor();
    firstJob = /#\/jobs\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
  });

  it('shows the job live: running while a page is held, done once it is answered, without a reload', async () => {
    await site.held('first');
    await jobStatus(page, 'running');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    // Everything but the held page settles while the view stays open: the counts move live.
    await page.locator('[data-stat="fetched"]').getByText(String(PRODUCTS + 2), { exact: true }).waitFor();
    await assertAccessible(page, 'job (running)');
    site.release('first');
    await jobStatus(page, 'done');
    await page.locator('[data-stat="fetched"]').getByText(String(PRODUCTS + 3), { exact: true }).waitFor();
    assert.deepEqual(navigations, [], 'the view updated in place');
    await page.getByRole('link', { name: `${site.url}/p/1`, exact: true }).waitFor();
    await assertAccessible(page, 'job (done)');
    await shoot(page, 'job');
  });

  it('downloads the CSV and the JSON Lines, equal to the API export', async () => {
    for (const [button, format] of [['Download CSV', 'csv'], ['Download JSON Lines', 'jsonl']] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
      assert.equal(download.suggestedFilename(), `${firstJob}.${format}`);
      const got = readFileSync((await download.path())!, 'utf8');
      const expected = await (await fetch(`${serve.url}/jobs/${firstJob}/export?format=${format}`, { headers: withKey() })).text();
      assert.equal(got, expected, `${format} download`);
      assert.equal(got.trim().split('\n').length, format === 'csv' ? PRODUCTS + 4 : PRODUCTS + 3, `${format}: a header row (CSV) and one line per page`);
    }
  });

  it('opens a page and shows its extracted fields and Markdown', async () => {
    await page.getByRole('link', { name: `${site.url}/p/1`, exact: true }).click();
    await page.getByRole('heading', { name: 'Page Product 1 | Owl shop', level: 1 }).waitFor();
    const fields = page.getByRole('table', { name: 'Extracted fields' });
    await fields.getByRole('row', { name: 'name Product 1' }).waitFor();
    await fields.getByRole('row', { name: 'price 10.5' }).waitFor();
    await page.getByRole('region', { name: 'Markdown' }).getByText(/sturdy owl figurine/).waitFor();
    await assertAccessible(page, 'page');
    await shoot(page, 'page');
  });

  it('shows a hostile crawled page as text: no script runs, no handler or javascript: link reaches the DOM', async () => {
    await page.goto(`${serve.url}/#/jobs/${firstJob}`);
    await page.getByLabel('Show').selectOption('ok');
    await page.getByRole('link', { name: `${site.url}/evil`, exact: true }).click();
    await page.getByRole('heading', { name: 'Page <script>alert("title")</script>', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Extracted fields' }).getByRole('cell', { name: '<img src=x onerror=alert("name")> Evil owl' }).waitFor();
    const markdown = page.getByRole('region', { name: 'Markdown' });
    await markdown.getByText(/tries every trick it knows/).waitFor();
    await markdown.getByRole('link', { name: 'real link' }).waitFor();
    const active = await page.evaluate(() => ({
      scripts: document.querySelectorAll('#main script').length,
      images: document.querySelectorAll('#main img').length,
      handlers: [...document.querySelectorAll('#main *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
      jsLinks: [...document.querySelectorAll('a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
    }));
    assert.deepEqual(active, { scripts: 0, images: 0, handlers: 0, jsLinks: 0 });
    // Hover the words that carried onmouseover, click the text of the javascript: link.
    await markdown.getByText('bold words').hover();
    await markdown.getByText('a javascript: link').click();
    assert.equal(requestUrls.filter((u) => u.endsWith(`/jobs/${firstJob}/events`)).length, 2, 'one event stream per visit of the job view: a finished job\'s stream is not reopened');
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(problems, [], 'no script error and no Content-Security-Policy violation');
    await assertAccessible(page, 'hostile page');
  });

  it('cancels a second crawl after confirmation', async () => {
    await page.goto(`${serve.url}/#/new`);
    await page.getByLabel('Seed URLs').fill(`${site.url}/hold/second/1`);
    await page.getByLabel('Max pages').fill('5');
    await page.getByRole('button', { name: 'Start crawl' }).click();
    await site.held('second');
    await jobStatus(page, 'running');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this job?' });
    await dialog.waitFor();
    await assertAccessible(page, 'cancel confirmation');
    // Escape closes the confirmation and nothing happens; the job goes on.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await jobStatus(page, 'running');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel the job' }).click();
    await jobStatus(page, 'cancelled');
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).count(), 0, 'a finished job offers no cancel');
  });

  it('lists the jobs with their status words, filters by status', async () => {
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    const rows = page.getByRole('table', { name: 'Jobs, newest first' }).getByRole('row');
    await rows.filter({ hasText: 'cancelled' }).waitFor();
    await rows.filter({ hasText: 'done' }).waitFor();
    await assertAccessible(page, 'jobs');
    await shoot(page, 'jobs');
    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByRole('table', { name: 'Jobs, newest first' }).getByRole('row').nth(2).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 2, 'the header row and the cancelled job');
    await rows.filter({ hasText: 'cancelled' }).waitFor();
  });

  it('shows per-site health of the last hour: a key its own jobs\' sites, an admin key every site and the proxy pool', async () => {
    await page.getByRole('link', { name: 'Sites' }).click();
    await page.getByRole('heading', { name: 'Sites', level: 1 }).waitFor();
    const row = page.getByRole('row', { name: /^127\.0\.0\.1 / });
    await row.waitFor();
    assert.equal(await row.getByRole('cell').first().textContent(), String(PRODUCTS + 3));
    // This key is not admin: its own jobs' sites, no proxy pool.
    await page.getByText(/The sites of this key's own jobs/).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Proxy pool' }).count(), 0);
    await assertAccessible(page, 'sites');
    // An admin key sees every job's sites and the proxy pool.
    const admin = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const p = await admin.newPage();
      await p.goto(`${serve.url}/#/sites`);
      await p.getByLabel('API key').fill(adminKey);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Sites', level: 1 }).waitFor();
      const all = p.getByRole('row', { name: /^127\.0\.0\.1 / });
      await all.waitFor();
      assert.equal(await all.getByRole('cell').first().textContent(), String(PRODUCTS + 3));
      await p.getByRole('heading', { name: 'Proxy pool' }).waitFor();
      await p.getByText('No proxies configured').waitFor();
      await assertAccessible(p, 'sites (admin key)');
      await shoot(p, 'sites');
    } finally {
      await admin.close();
    }
  });

  it('creates a schedule from the form, watches its runs and a run\'s changes, disables it', async () => {
    await page.goto(`${serve.url}/#/schedules`);
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    await page.getByText('No schedules yet.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('shop watch');
    await page.getByLabel('Cron pattern').fill('*/2 * * * * *');
    await page.getByLabel('Seed URLs').fill(`${site.url}/p/1\n${site.url}/p/2`);
    await page.getByLabel('Max pages').fill('2');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const row = page.getByRole('table', { name: 'Schedules, oldest first' }).getByRole('row').filter({ hasText: 'shop watch' });
    await row.getByText('enabled', { exact: true }).waitFor();
    await assertAccessible(page, 'schedules');
    await shoot(page, 'schedules');
    await row.getByRole('link', { name: 'shop watch' }).click();
    await page.getByRole('heading', { name: 'Schedule shop watch', level: 1 }).waitFor();
    // The baseline run and one after it finish (a run every 2 s; the view refreshes itself).
    const runs = page.getByRole('table', { name: 'Runs, newest first' }).getByRole('row').filter({ hasText: 'done' });
    await runs.nth(1).waitFor();
    await page.getByRole('button', { name: 'Disable schedule shop watch' }).click();
    await page.getByRole('button', { name: 'Enable schedule shop watch' }).waitFor();
    await page.locator('.facts').getByText('disabled', { exact: true }).waitFor();
    // Its timing changes in place; a bad pattern is refused with the field named, and nothing changes.
    await page.getByLabel('Cron pattern').fill('61 * * * *');
    await page.getByRole('button', { name: 'Save timing' }).click();
    await page.getByRole('alert').getByText(/cron/).waitFor();
    await page.locator('.facts').getByText('*/2 * * * * *', { exact: true }).waitFor();
    await page.getByLabel('Cron pattern').fill('30 3 * * 1');
    await page.getByLabel('Time zone').fill('Europe/Stockholm');
    await page.getByLabel('Revisit').selectOption('adaptive');
    await page.getByRole('button', { name: 'Save timing' }).click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    await page.locator('.facts').getByText('30 3 * * 1', { exact: true }).waitFor();
    await page.locator('.facts').getByText('adaptive', { exact: true }).waitFor();
    const listed = (await (await fetch(`${serve.url}/schedules?limit=100`, { headers: withKey() })).json()) as { schedules: Array<{ name: string; cron: string; timezone: string; revisit: string }> };
    assert.deepEqual(listed.schedules.filter((s) => s.name === 'shop watch').map((s) => [s.cron, s.timezone, s.revisit]), [['30 3 * * 1', 'Europe/Stockholm', 'adaptive']]);
    await assertAccessible(page, 'schedule');
    await shoot(page, 'schedule');
    // The oldest finished run is the baseline: its pages are new; a later one has them unchanged.
    const done = await runs.count();
    await runs.nth(done - 1).getByRole('link', { name: /^Changes of the run/ }).click();
    await page.getByRole('heading', { name: /^Changes of run [0-9a-f]{8}$/, level: 1 }).waitFor();
    const changes = page.getByRole('table', { name: 'Pages of this run by change' });
    await changes.getByRole('row').filter({ hasText: `${site.url}/p/1` }).getByText('new', { exact: true }).waitFor();
    await assertAccessible(page, 'changes of the baseline');
    await page.goBack();
    await page.getByRole('heading', { name: 'Schedule shop watch', level: 1 }).waitFor();
    await runs.nth(done - 2).getByRole('link', { name: /^Changes of the run/ }).click();
    await changes.getByRole('row').filter({ hasText: `${site.url}/p/1` }).getByText('unchanged', { exact: true }).waitFor();
    await page.getByLabel('Change', { exact: true }).selectOption('new');
    await page.getByText('No changes of type new.').waitFor();
    await shoot(page, 'changes');
  });

  it('registers a webhook (admin key), shows its secret once, sends a test event and lists its delivery, then deletes it', async () => {
    const received: Array<{ headers: Record<string, string>; body: string }> = [];
    const receiver = await startHttpFixture((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        sendBody(res, 204, '', {});
      });
    });
    const admin = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const p = await admin.newPage();
      p.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss();
      });
      await p.goto(serve.url);
      await p.getByLabel('API key').fill(adminKey);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('link', { name: 'Webhooks' }).click();
      await p.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await p.getByText('No webhooks yet.').waitFor();
      await p.getByLabel('Receiver URL').fill(`${receiver.url}/hook`);
      await p.getByRole('checkbox', { name: 'job.cancelled' }).check();
      await p.getByRole('button', { name: 'Create webhook' }).click();
      const secretField = p.getByLabel('Signing secret');
      await secretField.waitFor();
      const secret = await secretField.inputValue();
      assert.match(secret, /^whsec_/);
      const row = p.getByRole('table', { name: 'Webhooks, oldest first' }).getByRole('row').filter({ hasText: `${receiver.url}/hook` });
      await row.getByText('job.completed, job.failed, job.cancelled').waitFor();
      await assertAccessible(p, 'webhooks');
      await shoot(p, 'webhooks');
      // The secret is shown once: the list (and a reload) never shows it again.
      await p.reload();
      await p.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      assert.equal(await p.getByLabel('Signing secret').count(), 0);
      assert.ok(!(await p.content()).includes(secret));

      await row.getByRole('link').click();
      await p.getByRole('heading', { name: /^Webhook [0-9a-f]{8}$/, level: 1 }).waitFor();
      await p.getByText('No deliveries yet.').waitFor();
      await p.getByRole('button', { name: 'Send test event' }).click();
      const delivery = p.getByRole('table', { name: 'Deliveries, newest first' }).getByRole('row').filter({ hasText: 'webhook.test' });
      await delivery.getByText('delivered', { exact: true }).waitFor();
      assert.equal(await delivery.getByRole('cell').nth(3).textContent(), '204');
      // What reached the receiver is signed with the secret the console showed.
      assert.equal(received.length, 1);
      const event = new Webhook(secret).verify(received[0]!.body, received[0]!.headers) as { type: string };
      assert.equal(event.type, 'webhook.test');
      await assertAccessible(p, 'webhook deliveries');
      await shoot(p, 'webhook');

      await p.getByRole('button', { name: 'Delete webhook' }).click();
      const confirm = p.getByRole('dialog', { name: 'Delete this webhook?' });
      await confirm.getByRole('button', { name: 'Delete it' }).click();
      await p.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await p.getByText('No webhooks yet.').waitFor();
    } finally {
      await admin.close();
      await receiver.close();
    }
  });

  it('offers a jobs:read-only key no way to start or stop a crawl, and shows it only what is its own', async () => {
    const reader = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const p = await reader.newPage();
      p.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss();
      });
      await p.goto(serve.url);
      await p.getByLabel('API key').fill(readKey);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
      await p.getByRole('banner').getByText('watcher', { exact: true }).waitFor();
      // Another key's jobs are not listed, and no "New crawl" anywhere.
      await p.getByText('No jobs yet.').waitFor();
      assert.equal(await p.getByRole('link', { name: 'New crawl' }).count(), 0);
      assert.equal(await p.getByRole('button', { name: 'Start crawl' }).count(), 0);
      await assertAccessible(p, 'jobs (read-only key)');
      // Typed in by hand, the new-crawl view says why it is not there.
      await p.goto(`${serve.url}/#/new`);
      await p.getByRole('status').getByText(/may not start crawls: that needs the scope jobs:write/).waitFor();
      assert.equal(await p.getByRole('button', { name: 'Start crawl' }).count(), 0);
      await assertAccessible(p, 'new crawl (read-only key)');
      await shoot(p, 'read-only');
      // The first key's job is a 404 for this one, shown as such.
      await p.goto(`${serve.url}/#/jobs/${firstJob}`);
      await p.getByRole('alert').getByText(/JOB_NOT_FOUND/).waitFor();
      assert.equal(await p.getByRole('button', { name: 'Cancel job' }).count(), 0);
      // Schedules: none of the first key's, and no form to make one.
      await p.getByRole('link', { name: 'Schedules' }).click();
      await p.getByText('No schedules yet.').waitFor();
      assert.equal(await p.getByRole('button', { name: 'Create schedule' }).count(), 0);
      // Webhooks are for admin keys: not in the navigation, and the view says why.
      assert.equal(await p.getByRole('link', { name: 'Webhooks' }).count(), 0);
      await p.goto(`${serve.url}/#/webhooks`);
      await p.getByRole('status').getByText(/may not manage webhooks .* needs the scope admin/).waitFor();
      // Sites: only this key's own jobs (none), no proxy pool.
      await p.getByRole('link', { name: 'Sites' }).click();
      await p.getByRole('heading', { name: 'Sites', level: 1 }).waitFor();
      await p.getByText(/The sites of this key's own jobs/).waitFor();
      await p.getByText('No pages fetched in the last 1h.').waitFor();
      assert.equal(await p.getByRole('heading', { name: 'Proxy pool' }).count(), 0);
      await assertAccessible(p, 'sites (read-only key)');
    } finally {
      await reader.close();
    }
  });

  it('opens directly, without a sign-in, from an owl serve with OWL_AUTH=off on loopback', async () => {
    const openDir = mkdtempSync(path.join(tmpdir(), 'owl-console-open-'));
    const open = await startServe({ OWL_AUTH: 'off', OWL_DATA_DIR: openDir, OWL_CONSOLE_DIR: consoleDir });
    const ctx = await browser.newContext();
    try {
      const p = await ctx.newPage();
      await p.goto(open.url);
      await p.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
      assert.equal(await p.getByLabel('API key').count(), 0);
      assert.equal(await p.getByRole('button', { name: 'Sign out' }).count(), 0);
      await p.getByRole('link', { name: 'New crawl' }).first().waitFor();
    } finally {
      await ctx.close();
      open.child.kill('SIGTERM');
      await open.exited;
      rmSync(openDir, { recursive: true, force: true });
    }
  });
});
