import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { runOwl as owl } from './serve-process.ts';



describe('owl crawl', () => {
  let site: FixtureSite;
  let dataDir: string;
  before(async () => {
    site = await startFixtureSite({ graphSize: 40, linksPerPage: 4 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'owl-crawl-'));
  });
  after(async () => {
    await site?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('crawls a site and prints a JSON summary as the last stdout line', async () => {
    const r = await owl(['crawl', `${site.url}/graph/0`, '--max-pages', '100', '--concurrency', '4', '--host-delay', '0', '--json'], { OWL_DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const summary = JSON.parse(last);
    assert.equal(summary.status, 'done');
    assert.equal(summary.pages, 40);
    assert.equal(summary.failed, 0);
    assert.equal(typeof summary.seconds, 'number');
    assert.equal(site.hits('/graph/7'), 1);
  });

  it('respects --max-pages and --max-depth', async () => {
    const r = await owl(['crawl', `${site.url}/graph/0`, '--max-pages', '10', '--host-delay', '0', '--json'], { OWL_DATA_DIR: dataDir });
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).pages, 10);
    const d = await owl(['crawl', `${site.url}/graph/0`, '--max-depth', '0', '--host-delay', '0', '--json'], { OWL_DATA_DIR: dataDir });
    assert.equal(JSON.parse(d.stdout.trim().split('\n').at(-1)!).pages, 1);
  });

  it('exits 0 when pages fail (the crawl ran)', async () => {
    const r = await owl(['crawl', `${site.url}/status/404`, '--json'], { OWL_DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.failed, 1);
    assert.equal(summary.status, 'failed');
  });

  for (const [args, expected] of [
    [['crawl'], /needs at least one URL/],
    [['crawl', 'not a url'], /not an absolute http\(s\) URL/],
    [['crawl', 'https://example.com/', '--max-pages', 'lots'], /--max-pages must be an integer/],
    [['crawl', 'https://example.com/', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['crawl', 'https://example.com/', '--scope', 'planet'], /--scope must be host or domain/],
    [['fly'], /unknown command "fly"/],
  ] as const) {
    it(`rejects ${JSON.stringify(args)} with exit 2 and one line`, async () => {
      const r = await owl([...args], { OWL_DATA_DIR: dataDir });
      assert.equal(r.code, 2);
      assert.match(r.stderr, expected);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  it('rejects unknown OWL_ settings by name', async () => {
    const r = await owl(['crawl', 'https://example.com/'], { OWL_DATA_DIR: dataDir, OWL_CONCURENCY: '3' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown setting OWL_CONCURENCY/);
  });

  it('SIGTERM ends a running crawl: the job is cancelled, the summary printed, exit 0', async () => {
    // Sent once the crawl has started (its start-up step on stderr), whatever the machine's speed;
    // signals during start-up: startup-signals.test.ts.
    const r = await owl(['crawl', `${site.url}/slow?ms=4000`, `${site.url}/slow?ms=4001`, '--host-delay', '0', '--json'], { OWL_DATA_DIR: dataDir, TEST_OWL_STARTUP_STEP_MS: '1' }, (child) =>
      readline.createInterface({ input: child.stderr! }).on('line', (line) => {
        if (line === 'owl start-up: crawl started') child.kill('SIGTERM');
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.status, 'cancelled');
  });

  it('owl worker refuses the embedded store with a clear message', async () => {
    const r = await owl(['worker'], { OWL_DATA_DIR: dataDir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /owl worker needs DATABASE_URL=postgres/);
  });
});

