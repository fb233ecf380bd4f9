import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CANCEL_REASON } from '../../src/api/routes/jobs.ts';
import type { PageRecord } from '../../src/store/types.ts';
import { fetchAllSeeds, json, makeApp, metricValue, type TestApp } from './helpers.ts';

function page(url: string, i: number): PageRecord {
  return {
    url, finalUrl: url, statusCode: 200, title: `Page ${i}`, bytes: 1000 + i, fetchMs: 12.5, errorCode: null,
    contentType: 'text/html', mode: 'http', linksFound: 3, depth: 1, fetchedAt: 1_700_000_000_000 + i,
    contentHash: null, lastmod: null, content: null,
  };
}

describe('job routes', () => {
  let t: TestApp;
  before(async () => { t = await makeApp(); });
  after(async () => { await t.app.close(); });

  async function createJob(body: Record<string, unknown>) {
    return t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: body });
  }

  it('POST /jobs creates a job with defaults and normalised seeds', async () => {
    const res = await createJob({ seeds: ['HTTP://Example.COM:80/a#frag'] });
    assert.equal(res.statusCode, 201, res.body);
    const job = res.json();
    assert.match(job.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.location, `/jobs/${job.id}`);
    assert.equal(job.status, 'queued');
    assert.equal(job.source, 'api');
    assert.equal(job.seeds.length, 1);
    assert.ok(job.seeds[0].startsWith('http://example.com/a'), job.seeds[0]);
    assert.ok(!job.seeds[0].includes('#'));
    assert.deepEqual(job.options, {
      maxPages: 1000, maxDepth: 5, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: false, screenshots: false,
      scrape: { formats: ['metadata'], onlyMainContent: true, extract: null, sitemaps: 'include' },
    });
    assert.equal(job.counts.admitted, 1);
    assert.equal(job.startedAt, null);
  });

  it('POST /jobs takes every option and counts jobs_started_total by source', async () => {
    const before = (await metricValue(t.registry, 'jobs_started_total', { source: 'nightly-run' })) ?? 0;
    for (let i = 0; i < 3; i++) {
      const res = await createJob({
        seeds: ['https://a.example/', 'https://b.example/x'], maxPages: 10, maxDepth: 0, scope: 'domain',
        mode: 'auto', respectRobots: true, screenshots: true, source: 'nightly-run', formats: ['markdown'], onlyMainContent: false, sitemaps: 'skip',
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json().options, {
        maxPages: 10, maxDepth: 0, scope: 'domain', mode: 'auto', respectRobots: true, allowPrivate: false, screenshots: true,
        scrape: { formats: ['metadata', 'markdown'], onlyMainContent: false, extract: null, sitemaps: 'skip' },
      });
    }
    assert.equal(await metricValue(t.registry, 'jobs_started_total', { source: 'nightly-run' }), before + 3);
  });

  it('GET /jobs/:id returns the job; unknown and non-UUID ids are 404 JOB_NOT_FOUND', async () => {
    const created = (await createJob({ seeds: ['https://read.example/'] })).json();
    const res = await t.app.inject({ method: 'GET', url: `/jobs/${created.id}` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), created);
    const upper = await t.app.inject({ method: 'GET', url: `/jobs/${created.id.toUpperCase()}` });
    assert.equal(upper.json().id, created.id);
    for (const id of [randomUUID(), 'not-a-uuid', '1', "' OR 1=1 --"]) {
      const miss = await t.app.inject({ method: 'GET', url: `/jobs/${encodeURIComponent(id)}` });
      assert.equal(miss.statusCode, 404, id);
      assert.equal(miss.json().error.code, 'JOB_NOT_FOUND');
    }
  });

  it('GET /jobs paginates newest first with next, and filters by status', async () => {
    const local = await makeApp();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await local.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: [`https://p${i}.example/`] } });
        ids.push(res.json().id);
      }
      const seen: string[] = [];
      let next: string | null = null;
      for (let pageNo = 0; pageNo < 10; pageNo++) {
        const url: string = `/jobs?limit=2${next ? `&after=${next}` : ''}`;
        const body = (await local.app.inject({ method: 'GET', url })).json();
        seen.push(...body.jobs.map((j: { id: string }) => j.id));
        next = body.next;
        if (next === null) break;
        assert.equal(body.jobs.length, 2);
      }
      assert.deepEqual(seen, [...ids].reverse());

      const defaults = (await local.app.inject({ method: 'GET', url: '/jobs' })).json();
      assert.equal(defaults.jobs.length, 5);
      assert.equal(defaults.next, null);

      await local.app.inject({ method: 'POST', url: `/jobs/${ids[1]}/cancel` });
      const cancelled = (await local.app.inject({ method: 'GET', url: '/jobs?status=cancelled' })).json();
      assert.deepEqual(cancelled.jobs.map((j: { id: string }) => j.id), [ids[1]]);
    } finally {
      await local.app.close();
    }
  });

  it('GET /jobs/:id/pages paginates results by page id; unknown job is 404', async () => {
    const local = await makeApp();
    try {
      const seeds = Array.from({ length: 5 }, (_, i) => `https://pages.example/${i}`);
      const job = (await local.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds, sitemaps: 'skip' } })).json();
      await fetchAllSeeds(local.store, job, page);
      const first = (await local.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages?limit=3` })).json();
      assert.equal(first.pages.length, 3);
      assert.deepEqual(Object.keys(first.pages[0]).sort(), [
        'bytes', 'change', 'contentHash', 'contentType', 'depth', 'errorCode', 'fetchMs', 'fetchedAt', 'finalUrl', 'id', 'lastmod', 'mode',
        'previousPageId', 'statusCode', 'title', 'url',
      ]);
      assert.deepEqual(first.pages[0], {
        id: first.pages[0].id, url: 'https://pages.example/0', statusCode: 200, finalUrl: 'https://pages.example/0', title: 'Page 0',
        bytes: 1000, fetchMs: 12.5, errorCode: null, contentType: 'text/html', mode: 'http', depth: 1, fetchedAt: 1_700_000_000_000,
        contentHash: null, lastmod: null, change: null, previousPageId: null,
      });
      assert.equal(first.next, first.pages[2].id);
      const second = (await local.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages?limit=3&after=${first.next}` })).json();
      assert.deepEqual(second.pages.map((p: { url: string }) => p.url), ['https://pages.example/3', 'https://pages.example/4']);
      assert.equal(second.next, null);
      const done = (await local.app.inject({ method: 'GET', url: `/jobs/${job.id}` })).json();
      assert.equal(done.status, 'done');
      assert.equal(done.counts.fetched, 5);
      const miss = await local.app.inject({ method: 'GET', url: `/jobs/${randomUUID()}/pages` });
      assert.equal(miss.statusCode, 404);
      assert.equal(miss.json().error.code, 'JOB_NOT_FOUND');
    } finally {
      await local.app.close();
    }
  });

  it('POST /jobs/:id/cancel and /fail answer 409 for a job that finished by crawling', async () => {
    const local = await makeApp();
    try {
      const job = (await local.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://done.example/'], sitemaps: 'skip' } })).json();
      await fetchAllSeeds(local.store, job, page);
      const cancel = await local.app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel` });
      assert.equal(cancel.statusCode, 409);
      assert.equal(cancel.json().error.message, 'The job has already finished (status: done)');
      const fail = await local.app.inject({ method: 'POST', url: `/jobs/${job.id}/fail`, headers: json, payload: { reason: 'late' } });
      assert.equal(fail.statusCode, 409);
    } finally {
      await local.app.close();
    }
  });

  it('POST /jobs/:id/cancel cancels once, then 409 JOB_FINISHED naming the status', async () => {
    const job = (await createJob({ seeds: ['https://cancel.example/'] })).json();
    const res = await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'cancelled');
    assert.equal(res.json().reason, CANCEL_REASON);
    // Clients that always send a JSON content type with an empty body are accepted.
    const again = await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel`, headers: json, payload: '' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'JOB_FINISHED');
    assert.match(again.json().error.message, /cancelled/);
    const miss = await t.app.inject({ method: 'POST', url: `/jobs/${randomUUID()}/cancel` });
    assert.equal(miss.statusCode, 404);
  });

  it('POST /jobs/:id/fail marks the job failed and counts jobs_failed_total by reason', async () => {
    const job = (await createJob({ seeds: ['https://fail.example/'] })).json();
    const res = await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/fail`, headers: json, payload: { reason: 'proxy_pool_empty' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'failed');
    assert.equal(res.json().reason, 'proxy_pool_empty');
    assert.equal(await metricValue(t.registry, 'jobs_failed_total', { reason: 'proxy_pool_empty' }), 1);
    const again = await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/fail`, headers: json, payload: { reason: 'proxy_pool_empty' } });
    assert.equal(again.statusCode, 409);
    assert.match(again.json().error.message, /status: failed/);
    assert.equal(await metricValue(t.registry, 'jobs_failed_total', { reason: 'proxy_pool_empty' }), 1);
    const bad = await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/fail`, headers: json, payload: { reason: 'Not A Code' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /^reason must match/);
  });

  it('a job may turn robots.txt off only when the server allows it', async () => {
    const refused = await createJob({ seeds: ['https://robots.example/'], respectRobots: false });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error.code, 'VALIDATION');
    assert.match(refused.json().error.message, /respectRobots/);

    const lax = await makeApp({ config: { respectRobots: false } });
    try {
      const off = await lax.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://r.example/'] } });
      assert.equal(off.json().options.respectRobots, false);
      const on = await lax.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://r.example/'], respectRobots: true } });
      assert.equal(on.json().options.respectRobots, true);
    } finally {
      await lax.app.close();
    }
  });
});

describe('seed checks (SSRF and URL shape)', () => {
  let strict: TestApp;
  let operator: TestApp;
  before(async () => {
    strict = await makeApp();
    operator = await makeApp({ config: { allowPrivateTargets: true } });
  });
  after(async () => {
    await strict.app.close();
    await operator.app.close();
  });

  const privateSeeds = [
    'http://127.0.0.1/', 'http://10.1.2.3:8080/x', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/',
    'http://2130706433/', 'http://0177.0.0.1/', 'http://192.168.1.1/', 'http://metadata.google.internal/',
  ];

  it('refuses literal private, loopback and metadata seeds with 422 TARGET_FORBIDDEN naming the index', async () => {
    for (const seed of privateSeeds) {
      const res = await strict.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://ok.example/', seed] } });
      assert.equal(res.statusCode, 422, `${seed}: ${res.body}`);
      assert.equal(res.json().error.code, 'TARGET_FORBIDDEN', seed);
      assert.match(res.json().error.message, /^seeds\[1\]/);
    }
    assert.equal(await metricValue(strict.registry, 'jobs_started_total', { source: 'api' }), undefined);
  });

  it('accepts the same seeds when allowPrivateTargets is on, and records allowPrivate on the job', async () => {
    for (const seed of privateSeeds) {
      const res = await operator.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: [seed] } });
      assert.equal(res.statusCode, 201, `${seed}: ${res.body}`);
      assert.equal(res.json().options.allowPrivate, true);
    }
  });

  it('rejects seeds that are not absolute http(s) URLs with 422 INVALID_URL naming the index', async () => {
    for (const seed of ['mailto:a@b.example', 'javascript:alert(1)', '/relative/path', 'ftp://files.example/', 'http://', 'not a url']) {
      const res = await strict.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://ok.example/', 'https://ok2.example/', seed] } });
      assert.equal(res.statusCode, 422, `${seed}: ${res.body}`);
      assert.equal(res.json().error.code, 'INVALID_URL', seed);
      assert.match(res.json().error.message, /^seeds\[2\]/);
    }
  });
});

describe('job routes: scraping options', () => {
  let t: TestApp;
  before(async () => { t = await makeApp(); });
  after(async () => { await t.app.close(); });

  it('refuses a bad format, rule or selector with 400 VALIDATION naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ formats: ['md'] }, /^formats\[0\] must be one of: metadata, links, text, markdown, html$/],
      [{ sitemaps: 'sometimes' }, /^sitemaps must be one of: include, skip, only$/],
      [{ extract: { fields: { price: 'div:frobnicate' } } }, /^extract\.fields\.price/],
      [{ extract: { fields: { price: { selector: '.p', type: 'money' } } } }, /^extract\.fields\.price\.type/],
      [{ extract: { items: { selector: '.product', fields: { url: { selector: 'a[', attr: 'href' } } } } }, /^extract\.items\.fields\.url\.selector/],
    ];
    for (const [extra, message] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://a.example/'], ...extra } });
      assert.equal(res.statusCode, 400, JSON.stringify(extra));
      assert.equal(res.json().error.code, 'VALIDATION');
      assert.match(res.json().error.message, message, JSON.stringify(extra));
    }
  });

  it('keeps the extraction rules with the job, fields in the order written', async () => {
    const extract = { fields: { sku: '.sku', name: 'h1', price: { selector: '.price', type: 'number', required: true } } };
    const res = await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://a.example/'], extract, formats: ['html', 'text'] } });
    assert.equal(res.statusCode, 201, res.body);
    const job = (await t.app.inject({ method: 'GET', url: `/jobs/${res.json().id}` })).json();
    assert.deepEqual(Object.keys(job.options.scrape.extract.fields), ['sku', 'name', 'price']);
    assert.deepEqual(job.options.scrape.formats, ['metadata', 'text', 'html']);
    assert.equal(job.counts.sitemaps, 1, "the seed origin's /sitemap.xml is read first");
  });
});
