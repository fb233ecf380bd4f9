import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { json, makeApp, metricValue, type TestApp } from './helpers.ts';

describe('errors: bad input never yields a 5xx', () => {
  let t: TestApp;
  before(async () => { t = await makeApp({ config: { maxBodyRequestBytes: 4096 } }); });
  after(async () => { await t.app.close(); });

  async function post(payload: unknown, headers: Record<string, string> = json) {
    const res = await t.app.inject({ method: 'POST', url: '/jobs', headers, payload: payload as string });
    return { status: res.statusCode, body: res.json() as { error: { code: string; message: string } } };
  }

  it('names the field and the rule for schema violations', async () => {
    const cases: [unknown, string][] = [
      [{ seeds: [5] }, 'seeds[0] must be a string'],
      [{ seeds: ['https://a.example/', true] }, 'seeds[1] must be a string'],
      [{ seeds: 'https://a.example/' }, 'seeds must be an array'],
      [{ seeds: [] }, 'seeds must have at least 1 item'],
      [{ seeds: Array.from({ length: 101 }, (_, i) => `https://a.example/${i}`) }, 'seeds must have at most 100 items'],
      [{ seeds: [''] }, 'seeds[0] must not be empty'],
      [{ seeds: [`https://a.example/${'x'.repeat(2048)}`] }, 'seeds[0] must be at most 2048 characters long'],
      [{}, 'seeds is required'],
      [{ seeds: ['https://a.example/'], maxPages: 0 }, 'maxPages must be ≥ 1'],
      [{ seeds: ['https://a.example/'], maxPages: 1_000_001 }, 'maxPages must be ≤ 1000000'],
      [{ seeds: ['https://a.example/'], maxPages: '10' }, 'maxPages must be an integer'],
      [{ seeds: ['https://a.example/'], maxPages: 1.5 }, 'maxPages must be an integer'],
      [{ seeds: ['https://a.example/'], maxDepth: 101 }, 'maxDepth must be ≤ 100'],
      [{ seeds: ['https://a.example/'], scope: 'world' }, 'scope must be one of: host, domain'],
      [{ seeds: ['https://a.example/'], mode: 'ftp' }, 'mode must be one of: http, browser, auto'],
      [{ seeds: ['https://a.example/'], respectRobots: 'no' }, 'respectRobots must be a boolean (true or false)'],
      [{ seeds: ['https://a.example/'], source: 'Bad Source' }, 'source must match ^[a-z0-9][a-z0-9_-]{0,31}$'],
      [{ seeds: ['https://a.example/'], maxDepht: 3 }, 'the body has an unknown property "maxDepht"'],
      [[{ seeds: ['https://a.example/'] }], 'the body must be a JSON object'],
      ['"just a string"', 'the body must be a JSON object'],
    ];
    for (const [payload, message] of cases) {
      const res = await post(typeof payload === 'string' ? payload : JSON.stringify(payload));
      assert.equal(res.status, 400, JSON.stringify(payload).slice(0, 80));
      assert.deepEqual(res.body, { error: { code: 'VALIDATION', message } });
    }
  });

  it('rejects malformed JSON, empty bodies and prototype poisoning with 400 VALIDATION', async () => {
    for (const payload of ['{"seeds": [', '{seeds: 1}', '', '{"__proto__": {"x": 1}, "seeds": ["https://a.example/"]}']) {
      const res = await post(payload);
      assert.equal(res.status, 400, payload);
      assert.equal(res.body.error.code, 'VALIDATION', payload);
    }
    assert.equal((await post('{"seeds": [')).body.error.message, 'The body is not valid JSON');
    const proto = await post('{"seeds": ["https://a.example/"], "__proto__": {"x": 1}}');
    assert.equal(proto.body.error.message, 'The body contains the key "__proto__", which is refused (prototype poisoning)', 'named, not "not valid JSON"');
    const ctor = await post('{"seeds": ["https://a.example/"], "constructor": {"prototype": {"x": 1}}}');
    assert.match(ctor.body.error.message, /constructor\.prototype/);
  });

  it('refuses a seed with port 0, and names OWL_ALLOW_PRIVATE_TARGETS for a private seed', async () => {
    const port0 = await post(JSON.stringify({ seeds: ['https://a.example:0/'] }));
    assert.equal(port0.status, 422);
    assert.deepEqual(port0.body.error, { code: 'INVALID_URL', message: 'seeds[0] has port 0, which no server listens on' });
    const loopback = await post(JSON.stringify({ seeds: ['https://a.example/', 'http://127.0.0.1:8080/'] }));
    assert.equal(loopback.status, 422);
    assert.equal(loopback.body.error.code, 'TARGET_FORBIDDEN');
    assert.match(loopback.body.error.message, /^seeds\[1\]: .*OWL_ALLOW_PRIVATE_TARGETS=true/);
  });

  it('rejects a body over the limit with 413 BODY_TOO_LARGE', async () => {
    const big = JSON.stringify({ seeds: Array.from({ length: 100 }, (_, i) => `https://a.example/${'y'.repeat(60)}${i}`) });
    assert.ok(big.length > 4096);
    const res = await post(big);
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'BODY_TOO_LARGE');
  });

  it('rejects non-JSON content types with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await post('seeds=https://a.example/', { 'content-type': type });
      assert.equal(res.status, 415, type);
      assert.equal(res.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const withCharset = await post(JSON.stringify({ seeds: ['https://a.example/'] }), { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(withCharset.status, 201);
  });

  it('answers unknown routes and methods with 404 NOT_FOUND', async () => {
    for (const [method, url] of [['GET', '/nope'], ['DELETE', '/jobs'], ['GET', '/jobs/x/y/z'], ['PUT', '/healthz']] as const) {
      const res = await t.app.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });

  it('answers what the router rejects itself in the same shape, and counts it as unmatched', async () => {
    const badEncoding = await t.app.inject({ method: 'GET', url: '/jobs/%zz' });
    assert.equal(badEncoding.statusCode, 400);
    assert.equal(badEncoding.json().error.code, 'VALIDATION');
    const longId = await t.app.inject({ method: 'GET', url: `/jobs/${'a'.repeat(300)}` });
    assert.equal(longId.statusCode, 404);
    assert.equal(longId.json().error.code, 'NOT_FOUND');
    assert.equal(await metricValue(t.registry, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '400' }), 1);
  });

  it('validates query strings with coercion and names the parameter', async () => {
    const cases: [string, string][] = [
      ['/jobs?limit=0', 'query parameter limit must be ≥ 1'],
      ['/jobs?limit=101', 'query parameter limit must be ≤ 100'],
      ['/jobs?limit=ten', 'query parameter limit must be an integer'],
      ['/jobs?status=sleeping', 'query parameter status must be one of: queued, running, done, failed, cancelled'],
      ['/jobs?after=123', 'query parameter after must match ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'],
    ];
    for (const [url, message] of cases) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual(res.json(), { error: { code: 'VALIDATION', message } });
    }
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: ['https://q.example/'] } })).json();
    const pages = await t.app.inject({ method: 'GET', url: `/jobs/${job.id}/pages?limit=501` });
    assert.equal(pages.statusCode, 400);
    assert.equal(pages.json().error.message, 'query parameter limit must be ≤ 500');
    const ok = await t.app.inject({ method: 'GET', url: '/jobs?limit=5&cachebuster=1' });
    assert.equal(ok.statusCode, 200);
  });

  it('maps store failures to 503 STORE_UNAVAILABLE with Retry-After, and /readyz to 503', async () => {
    const local = await makeApp();
    try {
      local.store.broken = true;
      for (const [method, url, payload] of [
        ['POST', '/jobs', { seeds: ['https://a.example/'] }],
        ['GET', '/jobs', undefined],
        ['GET', `/jobs/${randomUUID()}`, undefined],
      ] as const) {
        const res = await local.app.inject({ method, url, headers: payload ? json : {}, payload });
        assert.equal(res.statusCode, 503, `${method} ${url}`);
        assert.equal(res.json().error.code, 'STORE_UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '1');
        assert.doesNotMatch(res.json().error.message, /ECONNREFUSED|5432/);
      }
      const ready = await local.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().error.code, 'STORE_UNAVAILABLE');
      local.store.broken = false;
      const back = await local.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(back.statusCode, 200);
      assert.deepEqual(back.json(), { status: 'ready', store: 'sqlite' });
      const health = await local.app.inject({ method: 'GET', url: '/healthz' });
      assert.deepEqual(health.json(), { status: 'ok' });
    } finally {
      await local.app.close();
    }
  });

  it('answers 503 when the readiness check hangs past its timeout', async () => {
    const local = await makeApp({ ready: () => new Promise(() => {}), readyTimeoutMs: 20 });
    try {
      const res = await local.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error.code, 'STORE_UNAVAILABLE');
    } finally {
      await local.app.close();
    }
  });

  it('turns a genuine bug into 500 INTERNAL without leaking its message', async () => {
    const local = await makeApp();
    try {
      local.store.override('jobs', 'get', async () => { throw new TypeError('cannot read properties of undefined (secret detail)'); });
      const res = await local.app.inject({ method: 'GET', url: `/jobs/${randomUUID()}` });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(res.json(), { error: { code: 'INTERNAL', message: 'Internal error' } });
    } finally {
      await local.app.close();
    }
  });
});
