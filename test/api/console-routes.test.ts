/**
 * The routes the web console stands on, through inject() (and one real socket for a stream):
 * its static files with their security and cache headers, GET /jobs/:id/events,
 * POST /scrape, GET /sites and the outcome filter of GET /jobs/:id/pages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { CONSOLE_CSP, consoleDirFrom, isConsolePath } from '../../src/api/routes/console.ts';
import { hostOf, siteHealth } from '../../src/api/routes/sites.ts';
import { SiteLabeler } from '../../src/metrics/site-label.ts';
import type { Job, PageRecord } from '../../src/store/types.ts';
import { buildConsole, firstViewSizes } from '../../scripts/build-console.ts';
import { sendBody, startHttpFixture, type HttpFixture } from '../fixtures/http-fixture.ts';
import { claim, settle } from '../store/frontier-calls.ts';
import { fetchAllSeeds, json, makeApp, metricValue, type TestApp } from './helpers.ts';

const NOW = 1_800_000_000_000;

function record(url: string, over: Partial<PageRecord> = {}): PageRecord {
  return {
    url, finalUrl: url, statusCode: 200, title: 't', bytes: 100, fetchMs: 10, errorCode: null, contentType: 'text/html', mode: 'http',
    linksFound: 0, depth: 0, fetchedAt: NOW - 60_000, contentHash: null, lastmod: null, content: null, ...over,
  };
}

describe('where owl serve finds the built console', () => {
  it('is dist/console of the installation, from the sources and from the compiled build alike', () => {
    const root = path.join(path.sep, 'opt', 'owl');
    assert.equal(consoleDirFrom(path.join(root, 'src', 'api', 'routes')), path.join(root, 'dist', 'console'));
    assert.equal(consoleDirFrom(path.join(root, 'dist')), path.join(root, 'dist', 'console'));
    assert.equal(consoleDirFrom(path.join(root, 'dist', 'chunks')), path.join(root, 'dist', 'console'));
  });
});

describe('the console: static files', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'owl-console-build-'));
  let t: TestApp;
  let asset = '';
  before(async () => {
    const built = await buildConsole(out);
    asset = built.firstView.find((f) => f.endsWith('.js'))!;
    t = await makeApp({ consoleDir: out });
  });
  after(async () => {
    await t.app.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('serves index.html at / with a strict Content-Security-Policy, revalidated', async () => {
    const res = await t.app.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.equal(res.headers['content-security-policy'], CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self'(;|$)/, 'no inline script, no eval');
    assert.doesNotMatch(CONSOLE_CSP, /unsafe/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(res.body, new RegExp(`<script type="module" src="/${asset}"></script>`));
    assert.doesNotMatch(res.body.replace(/<script type="module" src="[^"]+"><\/script>/, ''), /<script/, 'no inline script in the page');
  });

  it('serves hashed assets compressed at build time (brotli, gzip, identity) and cached for good', async () => {
    const plain = await t.app.inject({ url: `/${asset}` });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-security-policy'], CONSOLE_CSP);
    const br = await t.app.inject({ url: `/${asset}`, headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), plain.body);
    const gz = await t.app.inject({ url: `/${asset}`, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), plain.body);
  });

  it('keeps the first view within 100 KB of compressed JavaScript and CSS', async () => {
    const again = `${out}-again`;
    const sizes = firstViewSizes(await buildConsole(again));
    rmSync(again, { recursive: true, force: true });
    assert.ok(sizes.jsCssGz <= 100 * 1024, `first view ${sizes.jsCssGz} B gzip`);
    assert.ok(sizes.jsCssBr <= sizes.jsCssGz);
  });

  it('leaves unknown paths to the API: JSON 404s, and no static file in the OpenAPI document', async () => {
    const res = await t.app.inject({ url: '/no-such-file.js' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'NOT_FOUND');
    const paths = Object.keys((await t.app.inject({ url: '/openapi.json' })).json().paths);
    assert.ok(paths.includes('/sites') && paths.includes('/scrape') && paths.includes('/jobs/{id}/events'), paths.join(' '));
    assert.ok(!paths.some((p) => p === '/' || p.startsWith('/assets')), paths.join(' '));
  });

  it('isConsolePath names exactly the static files (what the keys feature lets through without a key)', async () => {
    for (const p of ['/', '/index.html', '/index.html.br', '/favicon.svg', `/${asset}`, `/${asset}.gz`]) assert.ok(isConsolePath(p), p);
    for (const p of ['/jobs', '/sites', '/scrape', '/index.html/x', '/assetsx', '/metrics', '/openapi.json']) assert.ok(!isConsolePath(p), p);
    const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => `/${path.relative(out, path.join(e.parentPath, e.name)).split(path.sep).join('/')}`);
    assert.ok(files.length >= 12, files.join(' '));
    for (const p of files) {
      assert.ok(isConsolePath(p), p);
      assert.equal((await t.app.inject({ url: p })).statusCode, 200, p);
    }
  });

  it('with keys required, serves every console file without a key and nothing of the API', async () => {
    const locked = await makeApp({ consoleDir: out, auth: { mode: 'required' } });
    try {
      const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        .map((e) => `/${path.relative(out, path.join(e.parentPath, e.name)).split(path.sep).join('/')}`);
      for (const p of ['/', ...files]) {
        const res = await locked.app.inject({ url: p });
        assert.equal(res.statusCode, 200, p);
        assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, p);
      }
      for (const [method, url] of [['GET', '/sites'], ['GET', '/jobs'], ['GET', '/jobs/00000000-0000-4000-8000-000000000000/events'], ['POST', '/scrape'], ['GET', '/assets'], ['GET', '/index.html/x']] as const) {
        const res = await locked.app.inject({ method, url });
        assert.ok(res.statusCode === 401 || res.statusCode === 404, `${method} ${url}: ${res.statusCode}`);
        if (res.statusCode === 401) assert.equal(res.json().error.code, 'UNAUTHORIZED');
      }
      assert.equal((await locked.app.inject({ url: '/sites' })).statusCode, 401);
    } finally {
      await locked.app.close();
    }
  });

  it('says how to build the console when it is not built', async () => {
    const bare = await makeApp({ consoleDir: path.join(out, 'missing') });
    try {
      const res = await bare.app.inject({ url: '/' });
      assert.equal(res.statusCode, 404);
      assert.match(res.json().error.message, /npm run build:console/);
    } finally {
      await bare.app.close();
    }
  });
});

describe('GET /jobs/:id/events', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ eventsIntervalMs: 5 });
  });
  after(async () => {
    await t.app.close();
  });

  function events(body: string): Array<{ event: string; data: any }> {
    return body.split('\n\n').filter((b) => b.startsWith('event:')).map((b) => {
      const [e, d] = b.split('\n');
      return { event: e!.slice(7), data: JSON.parse(d!.slice(6)) };
    });
  }

  it('answers a finished job with one end event carrying the job and its failures by code, then closes', async () => {
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['http://e.test/1', 'http://e.test/2', 'http://e.test/3'], sitemaps: 'skip' } })).json() as Job;
    // The first seed is fetched, the other two fail for good with http_404.
    const entries = (await claim(t.store, { workerId: 'test', limit: 3, leaseMs: 60_000, maxPerHost: 10, hostDelayMs: 0 })).sort((a, b) => a.id - b.id);
    await settle(t.store, entries.map((entry, i) => (i === 0
      ? { kind: 'done' as const, entry, page: record(entry.url), discovered: [] }
      : { kind: 'failed' as const, entry, page: record(entry.url, { statusCode: 404, errorCode: 'http_404' }) })));
    const res = await t.app.inject({ url: `/jobs/${job.id}/events` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-store');
    const got = events(res.body);
    assert.deepEqual(got.map((e) => e.event), ['end']);
    assert.equal(got[0]!.data.job.status, 'done');
    assert.deepEqual(got[0]!.data.job.counts.fetched + got[0]!.data.job.counts.failed, 3);
    assert.deepEqual(got[0]!.data.failuresByCode, { http_404: 2 });
    const { startedAt, finishedAt } = got[0]!.data.job;
    const ms = finishedAt - startedAt;
    assert.equal(got[0]!.data.pagesPerSecond, ms > 0 ? Math.round((3 / (ms / 1000)) * 10) / 10 : 0, "the end event carries the job's average rate");
  });

  it('has no HEAD route (a stream without a body)', async () => {
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['http://head.test/'] } })).json() as Job;
    const res = await t.app.inject({ method: 'HEAD', url: `/jobs/${job.id}/events` });
    assert.equal(res.statusCode, 404);
  });

  it('answers an unknown or malformed id with a JSON 404', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const res = await t.app.inject({ url: `/jobs/${id}/events` });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error.code, 'JOB_NOT_FOUND');
    }
  });

  it('streams a live job: progress now, the next change as it happens, end when it is cancelled', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const streamed = { method: 'GET', route: '/jobs/:id/events', status_code: '200' };
    const before = (await metricValue(t.registry, 'http_requests_total', streamed)) ?? 0;
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['http://live.test/'] } })).json() as Job;
    const res = await fetch(`${address}/jobs/${job.id}/events`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    await until(/event: progress\ndata: .*\n\n/);
    assert.equal(events(text)[0]!.data.job.status, 'queued');
    // A read that fails (the store is away for a moment) pauses the stream; it does not end it.
    const inner = t.store.inner.jobs;
    let failRead!: () => void;
    const readFailed = new Promise<void>((resolve) => { failRead = resolve; });
    let reads = 0;
    t.store.override('jobs', 'get', async (jobId: string) => {
      if (++reads === 1) {
        failRead();
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      }
      return inner.get(jobId);
    });
    await readFailed;
    await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel` });
    await until(/event: end\ndata: .*\n\n/);
    assert.deepEqual(events(text).map((e) => e.event), ['progress', 'end']);
    assert.equal(events(text).at(-1)!.data.job.status, 'cancelled');
    assert.equal((await reader.read()).done, true, 'the stream closes after end');
    // A stream's latency is the time to its first bytes, counted once per stream.
    assert.equal(await metricValue(t.registry, 'http_requests_total', streamed), before + 1);
    assert.equal(await metricValue(t.registry, 'api_request_latency_seconds', streamed, 'api_request_latency_seconds_count'), before + 1);
  });
});

describe('POST /scrape', () => {
  let site: HttpFixture;
  let t: TestApp;
  let strict: TestApp;
  before(async () => {
    site = await startHttpFixture((_req, res, at) => {
      if (at.pathname === '/robots.txt') return sendBody(res, 200, 'User-agent: *\nDisallow: /private\n', { 'content-type': 'text/plain' });
      if (at.pathname === '/missing') return sendBody(res, 404, '<title>Gone</title><h1 class="name">Nothing</h1>', { 'content-type': 'text/html' });
      if (at.pathname === '/data.bin') return sendBody(res, 200, Buffer.alloc(64), { 'content-type': 'application/octet-stream' });
      sendBody(res, 200, '<html><head><title>Owl</title></head><body><main><h1 class="name">Snowy owl</h1><p>Price <b class="price">12.50</b></p><p>A large white owl of the Arctic tundra, hunting by day in the long summer light.</p></main></body></html>', { 'content-type': 'text/html; charset=utf-8' });
    });
    t = await makeApp({ config: { allowPrivateTargets: true } });
    strict = await makeApp();
  });
  after(async () => {
    await t.app.close();
    await strict.app.close();
    await site.close();
  });

  const scrape = (app: TestApp, payload: unknown) => app.app.inject({ method: 'POST', url: '/scrape', headers: json, payload: payload as Record<string, unknown> });

  it('returns the page record a job would keep: metadata, extracted fields, Markdown', async () => {
    const res = await scrape(t, { url: `${site.url}/owl`, formats: ['markdown'], extract: { fields: { name: 'h1.name', price: { selector: '.price', type: 'number' } } } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.statusCode, 200);
    assert.equal(body.title, 'Owl');
    assert.deepEqual(body.data, { name: 'Snowy owl', price: 12.5 });
    assert.equal(body.extraction.status, 'complete');
    assert.match(body.markdown, /large white owl/);
    assert.equal(body.html, undefined, 'only the formats asked for');
    assert.equal(site.hits('/owl'), 1);
  });

  it('reports the target status of a page that is not 200, with what it held', async () => {
    const res = await scrape(t, { url: `${site.url}/missing`, extract: { fields: { name: 'h1.name' } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().statusCode, 404);
    assert.deepEqual(res.json().data, { name: 'Nothing' });
  });

  it('refuses what a job would refuse, naming the field', async () => {
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ url: 'ftp://x.test/' }, 422, 'INVALID_URL', /^url is not an absolute http\(s\) URL/],
      [{ url: `${site.url}/owl`, extract: { fields: { name: 'h1::nope(' } } }, 400, 'VALIDATION', /extract\.fields\.name/],
      [{ url: `${site.url}/owl`, formats: ['pdf'] }, 400, 'VALIDATION', /formats/],
      [{ url: `${site.url}/owl`, sitemaps: 'only' }, 400, 'VALIDATION', /sitemaps/],
      [{}, 400, 'VALIDATION', /url/],
      [{ url: `${site.url}/private/x` }, 403, 'ROBOTS_DENIED', /robots\.txt/],
      [{ url: `${site.url}/data.bin` }, 415, 'UNSUPPORTED_CONTENT', /application\/octet-stream/],
    ];
    for (const [payload, status, code, message] of cases) {
      const res = await scrape(t, payload);
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(res.json().error.code, code);
      assert.match(res.json().error.message, message);
    }
    const privateTarget = await scrape(strict, { url: `${site.url}/owl` });
    assert.equal(privateTarget.statusCode, 422);
    assert.equal(privateTarget.json().error.code, 'TARGET_FORBIDDEN');
    assert.match(privateTarget.json().error.message, /^url: .*OWL_ALLOW_PRIVATE_TARGETS/);
  });
});

describe('GET /sites and the pages filter', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ config: { grafanaUrl: 'http://grafana.test:3000' } });
  });
  after(async () => {
    await t.app.close();
  });

  it('gives per-site health of the window, worst first, with proxy health and the Grafana URL', async () => {
    const seeds = [
      'http://a.example.com/1', 'http://a.example.com/2', 'http://www.example.com/3', 'http://b.test/1', 'http://b.test/2', 'http://b.test/3', 'http://c.test/old',
    ];
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds, sitemaps: 'skip' } })).json() as Job;
    const now = Date.now();
    const over: Record<string, Partial<PageRecord>> = {
      'http://a.example.com/1': { fetchMs: 30, fetchedAt: now - 1000 },
      'http://a.example.com/2': { fetchMs: 10, fetchedAt: now - 1000 },
      'http://www.example.com/3': { fetchMs: 20, fetchedAt: now - 1000 },
      'http://b.test/1': { statusCode: 429, errorCode: 'http_429', fetchMs: 5, fetchedAt: now - 1000 },
      'http://b.test/2': { statusCode: 403, errorCode: 'captcha', fetchMs: 7, fetchedAt: now - 1000 },
      'http://b.test/3': { fetchMs: 9, fetchedAt: now - 1000 },
      'http://c.test/old': { fetchedAt: now - 2 * 60 * 60_000 },
    };
    await fetchAllSeeds(t.store, job, (url) => record(url, over[url]));
    await t.store.proxies.record({ proxy: 'http://p1.test:8080', failures: 3, cooldownUntil: now + 60_000, lastError: 'proxy' });
    await t.store.proxies.record({ proxy: 'http://p2.test:8080', failures: 0, cooldownUntil: 0, lastError: null });

    const res = await t.app.inject({ url: '/sites' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.window, '1h');
    assert.equal(body.grafanaUrl, 'http://grafana.test:3000');
    assert.equal(body.sampled, false);
    assert.equal(body.results, 6);
    assert.deepEqual(body.sites, [
      { site: 'b.test', pages: 3, failed: 2, http403: 1, http429: 1, captchas: 1, medianFetchMs: 7, trouble: 0.667 },
      { site: 'example.com', pages: 3, failed: 0, http403: 0, http429: 0, captchas: 0, medianFetchMs: 20, trouble: 0 },
    ]);
    assert.deepEqual(body.proxies.map((p: { proxy: string; usable: boolean }) => [p.proxy, p.usable]), [['http://p1.test:8080', false], ['http://p2.test:8080', true]]);
    const day = (await t.app.inject({ url: '/sites?window=24h' })).json();
    assert.deepEqual(day.sites.map((s: { site: string }) => s.site), ['b.test', 'example.com', 'c.test']);
    const bad = await t.app.inject({ url: '/sites?window=2h' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'VALIDATION');
    assert.match(bad.json().error.message, /window/);

    const failed = (await t.app.inject({ url: `/jobs/${job.id}/pages?outcome=failed` })).json();
    assert.deepEqual(failed.pages.map((p: { url: string }) => p.url).sort(), ['http://b.test/1', 'http://b.test/2']);
    const ok = (await t.app.inject({ url: `/jobs/${job.id}/pages?outcome=ok&limit=2` })).json();
    assert.equal(ok.pages.length, 2);
    assert.ok(ok.pages.every((p: { errorCode: string | null }) => p.errorCode === null));
    const wrong = await t.app.inject({ url: `/jobs/${job.id}/pages?outcome=maybe` });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.json().error.message, /outcome/);
  });

  it('siteHealth: the median of an even count is the mean of the middle two; ties sort busiest first, then by name', () => {
    const p = (url: string, fetchMs: number) => ({ id: 1, url, statusCode: 200, errorCode: null, fetchMs, fetchedAt: NOW });
    assert.deepEqual(siteHealth([p('http://x.test/', 10), p('http://x.test/a', 20), p('http://y.test/', 5), p('http://a.test/', 1), p('not a url', 1)], new SiteLabeler(Number.MAX_SAFE_INTEGER)).map((s) => [s.site, s.pages, s.medianFetchMs]), [
      ['x.test', 2, 15], ['a.test', 1, 1], ['y.test', 1, 5],
    ]);
  });

  it('hostOf reads the host of a stored URL as new URL() would', () => {
    const urls = ['http://a.test/', 'https://Shop.Example.com:8443/p?q=1', 'http://user:pw@b.test/x', 'http://[::1]:8080/', 'http://c.test?x=/y', 'http://d.test#f', 'http://e.test'];
    for (const url of urls) assert.equal(hostOf(url), new URL(url).hostname.replace(/^\[|\]$/g, ''), url);
    assert.equal(hostOf('not a url'), null);
  });
});
