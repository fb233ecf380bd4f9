import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { json, makeApp, metricValue, seriesLabels, type TestApp } from './helpers.ts';

describe('request instrumentation', () => {
  let t: TestApp;
  before(async () => { t = await makeApp(); });
  after(async () => { await t.app.close(); });

  it('1,000 requests to random job ids make one route="/jobs/:id" series per status', async () => {
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://m.example/'] } })).json();
    for (let i = 0; i < 1000; i++) {
      const id = i % 10 === 0 ? job.id : randomUUID();
      await t.app.inject({ method: 'GET', url: `/jobs/${id}` });
    }
    const series = (await seriesLabels(t.registry, 'http_requests_total')).filter((l) => l.route === '/jobs/:id');
    assert.deepEqual(series.map((l) => l.status_code).sort(), ['200', '404']);
    assert.equal(await metricValue(t.registry, 'http_requests_total', { method: 'GET', route: '/jobs/:id', status_code: '200' }), 100);
    assert.equal(await metricValue(t.registry, 'http_requests_total', { method: 'GET', route: '/jobs/:id', status_code: '404' }), 900);
    assert.equal(await metricValue(t.registry, 'api_request_latency_seconds',
      { method: 'GET', route: '/jobs/:id', status_code: '404' }, 'api_request_latency_seconds_count'), 900);
    const raw = await t.registry.metrics();
    assert.doesNotMatch(raw, new RegExp(job.id));
  });

  it('unmatched paths share route="unmatched" and odd methods count as OTHER', async () => {
    for (let i = 0; i < 50; i++) await t.app.inject({ method: 'GET', url: `/scan/${randomUUID()}/wp-admin.php` });
    await t.app.inject({ method: 'PROPFIND' as 'GET', url: '/jobs' });
    const routes = new Set((await seriesLabels(t.registry, 'http_requests_total')).map((l) => l.route));
    assert.ok(routes.has('unmatched'));
    assert.ok([...routes].every((r) => r === 'unmatched' || String(r).startsWith('/')), [...routes].join(','));
    assert.ok(![...routes].some((r) => String(r).includes('scan')));
    assert.equal(await metricValue(t.registry, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }), 50);
    const methods = new Set((await seriesLabels(t.registry, 'http_requests_total')).map((l) => l.method));
    assert.ok(methods.has('OTHER'), [...methods].join(','));
    assert.ok(!methods.has('PROPFIND'));
  });

  it('labels validation failures and POSTs by template and status, and leaves nothing in flight', async () => {
    const id = randomUUID();
    await t.app.inject({ method: 'POST', url: `/jobs/${id}/fail`, headers: json, payload: { reason: 'x' } });
    await t.app.inject({ method: 'POST', url: `/jobs/${id}/fail`, headers: json, payload: { nope: 1 } });
    assert.equal(await metricValue(t.registry, 'http_requests_total', { method: 'POST', route: '/jobs/:id/fail', status_code: '404' }), 1);
    assert.equal(await metricValue(t.registry, 'http_requests_total', { method: 'POST', route: '/jobs/:id/fail', status_code: '400' }), 1);
    assert.equal(await metricValue(t.registry, 'http_requests_in_flight'), 0);
  });

  it('serves /metrics in the Prometheus text format and instruments that route too', async () => {
    const first = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(first.statusCode, 200);
    assert.match(String(first.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(first.body, /^# HELP /m);
    assert.match(first.body, /api_request_latency_seconds_bucket\{le="0.001",method="GET",route="\/jobs\/:id",status_code="200"\}/);
    await t.app.inject({ method: 'GET', url: '/metrics' });
    const scrape = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(scrape.body, /http_requests_total\{method="GET",route="\/metrics",status_code="200"\} 2/);
  });

  it('caps client-chosen source labels so the series stay bounded', async () => {
    const local = await makeApp({ maxLabelValues: 3 });
    try {
      for (let i = 0; i < 6; i++) {
        const res = await local.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://c.example/'], source: `src${i}` } });
        assert.equal(res.statusCode, 201);
        assert.equal(res.json().source, `src${i}`);
      }
      const sources = (await seriesLabels(local.registry, 'jobs_started_total')).map((l) => String(l.source));
      assert.deepEqual(sources.sort(), ['other', 'src0', 'src1', 'src2']);
      assert.equal(await metricValue(local.registry, 'jobs_started_total', { source: 'other' }), 3);
    } finally {
      await local.app.close();
    }
  });

  it('takes a request out of http_requests_in_flight when its client hangs up', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const local = await makeApp({ ready: () => held, readyTimeoutMs: 60_000 });
    try {
      const base = await local.app.listen({ host: '127.0.0.1', port: 0 });
      const inFlight = async () => (await metricValue(local.registry, 'http_requests_in_flight')) ?? 0;
      const until = async (want: number) => {
        for (let i = 0; i < 500 && (await inFlight()) !== want; i++) await new Promise((r) => setTimeout(r, 5));
      };
      const ac = new AbortController();
      const pending = fetch(`${base}/readyz`, { signal: ac.signal }).catch((err: Error) => err.name);
      await until(1);
      assert.equal(await inFlight(), 1);
      ac.abort();
      assert.equal(await pending, 'AbortError');
      await until(0);
      assert.equal(await inFlight(), 0);
    } finally {
      release();
      await local.app.close();
    }
  });

  it('records nothing when instrumentation is off', async () => {
    const local = await makeApp({ instrument: false });
    try {
      await local.app.inject({ method: 'GET', url: '/healthz' });
      assert.deepEqual(await seriesLabels(local.registry, 'http_requests_total'), []);
    } finally {
      await local.app.close();
    }
  });
});

describe('OpenAPI document', () => {
  let t: TestApp;
  before(async () => { t = await makeApp(); });
  after(async () => { await t.app.close(); });

  it('lists every route with its methods, parameters and error schema', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.match(doc.openapi, /^3\./);
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    assert.deepEqual(ops, [
      'DELETE /jobs/{id}', 'DELETE /keys/{id}', 'DELETE /schedules/{id}', 'GET /audit', 'GET /healthz', 'GET /jobs', 'GET /jobs/{id}',
      'GET /jobs/{id}/changes', 'GET /jobs/{id}/events', 'GET /jobs/{id}/export', 'GET /jobs/{id}/pages', 'GET /jobs/{id}/pages/{pageId}', 'GET /jobs/{id}/pages/{pageId}/diff',
      'GET /keys', 'GET /me', 'GET /metrics', 'GET /openapi.json', 'GET /readyz', 'GET /schedules', 'GET /schedules/{id}', 'GET /schedules/{id}/runs', 'GET /sites',
      'PATCH /schedules/{id}', 'POST /jobs', 'POST /jobs/{id}/cancel', 'POST /jobs/{id}/fail', 'POST /keys', 'POST /schedules', 'POST /scrape',
      'DELETE /webhooks/{id}', 'GET /webhooks', 'GET /webhooks/{id}', 'GET /webhooks/{id}/deliveries', 'POST /webhooks', 'POST /webhooks/{id}/test',
    ].sort());
    const create = doc.paths['/jobs'].post;
    assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['seeds']);
    assert.ok(create.responses['201']);
    assert.ok(create.responses['4XX'] ?? create.responses['4xx']);
    const params = doc.paths['/jobs/{id}/pages'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort();
    assert.deepEqual(params, ['path:id', 'query:after', 'query:limit', 'query:outcome']);
  });
});
