/**
 * Keys on every route, through inject(): each route × {no key, unknown, revoked, expired, wrong
 * scope, another key's job, admin, the owner} gives the status and error code the issue names,
 * and a sweep shows that key A never sees a byte of key B's jobs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey } from '../../src/auth/keys.ts';
import { assertAuthMode, isLoopbackHost, KEY_CACHE_MS } from '../../src/auth/hook.ts';
import { isOwlError } from '../../src/errors.ts';
import type { Job } from '../../src/store/types.ts';
import { fetchAllSeeds, json, makeApp, metricValue, type TestApp } from '../api/helpers.ts';
import { addKey, bearer, makeAuthApp, T0 } from './helpers.ts';

type Who = 'none' | 'unknown' | 'revoked' | 'expired' | 'wrongScope' | 'otherKey' | 'admin' | 'owner';

interface Route {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  url: (jobId: string, pageId: number, keyId: string) => string;
  body?: unknown;
  scope: 'jobs:read' | 'jobs:write' | 'admin' | 'any';
  /** Whether the route names a job (another key's job is then a 404). */
  onJob: boolean;
  /** Status for the owner and for admin (job A is done, with one page). */
  ok: number;
  okCode?: string;
}

const ROUTES: Route[] = [
  { name: 'GET /jobs', method: 'GET', url: () => '/jobs', scope: 'jobs:read', onJob: false, ok: 200 },
  { name: 'POST /jobs', method: 'POST', url: () => '/jobs', body: { seeds: ['https://example.com/'] }, scope: 'jobs:write', onJob: false, ok: 201 },
  { name: 'GET /jobs/:id', method: 'GET', url: (j) => `/jobs/${j}`, scope: 'jobs:read', onJob: true, ok: 200 },
  { name: 'GET /jobs/:id/pages', method: 'GET', url: (j) => `/jobs/${j}/pages`, scope: 'jobs:read', onJob: true, ok: 200 },
  { name: 'GET /jobs/:id/pages/:pageId', method: 'GET', url: (j, p) => `/jobs/${j}/pages/${p}`, scope: 'jobs:read', onJob: true, ok: 200 },
  { name: 'GET /jobs/:id/export', method: 'GET', url: (j) => `/jobs/${j}/export?format=jsonl`, scope: 'jobs:read', onJob: true, ok: 200 },
  { name: 'POST /jobs/:id/cancel', method: 'POST', url: (j) => `/jobs/${j}/cancel`, scope: 'jobs:write', onJob: true, ok: 409, okCode: 'JOB_FINISHED' },
  { name: 'POST /jobs/:id/fail', method: 'POST', url: (j) => `/jobs/${j}/fail`, body: { reason: 'operator' }, scope: 'jobs:write', onJob: true, ok: 409, okCode: 'JOB_FINISHED' },
  { name: 'GET /jobs/:id/events', method: 'GET', url: (j) => `/jobs/${j}/events`, scope: 'jobs:read', onJob: true, ok: 200 },
  { name: 'GET /sites', method: 'GET', url: () => '/sites?window=24h', scope: 'jobs:read', onJob: false, ok: 200 },
  // A loopback target: refused after the key is admitted (no fetch leaves the test); a success is the browser test's.
  { name: 'POST /scrape', method: 'POST', url: () => '/scrape', body: { url: 'http://127.0.0.1/' }, scope: 'jobs:write', onJob: false, ok: 422, okCode: 'TARGET_FORBIDDEN' },
  { name: 'GET /me', method: 'GET', url: () => '/me', scope: 'any', onJob: false, ok: 200 },
  { name: 'GET /keys', method: 'GET', url: () => '/keys', scope: 'admin', onJob: false, ok: 200 },
  { name: 'POST /keys', method: 'POST', url: () => '/keys', body: { name: 'made', scopes: ['jobs:read'] }, scope: 'admin', onJob: false, ok: 201 },
  { name: 'GET /audit', method: 'GET', url: () => '/audit', scope: 'admin', onJob: false, ok: 200 },
  // Last: they change what the others see.
  { name: 'DELETE /keys/:id', method: 'DELETE', url: (_j, _p, k) => `/keys/${k}`, scope: 'admin', onJob: false, ok: 200 },
  { name: 'DELETE /jobs/:id', method: 'DELETE', url: (j) => `/jobs/${j}`, scope: 'jobs:write', onJob: true, ok: 204 },
];

const WHO: Who[] = ['none', 'unknown', 'revoked', 'expired', 'wrongScope', 'otherKey', 'admin', 'owner'];

function expected(route: Route, who: Who): { status: number; code?: string } {
  switch (who) {
    case 'none':
    case 'unknown':
    case 'revoked':
    case 'expired':
      return { status: 401, code: 'UNAUTHORIZED' };
    case 'wrongScope':
      return route.scope === 'any' ? { status: route.ok } : { status: 403, code: 'FORBIDDEN' };
    case 'otherKey':
      if (route.scope === 'admin') return { status: 403, code: 'FORBIDDEN' };
      return route.onJob ? { status: 404, code: 'JOB_NOT_FOUND' } : { status: route.ok };
    case 'owner':
      if (route.scope === 'admin') return { status: 403, code: 'FORBIDDEN' };
      return { status: route.ok, code: route.okCode };
    case 'admin':
      return { status: route.ok, code: route.okCode };
  }
}

describe('every route × every kind of caller', () => {
  let t: TestApp & { clock: { now: () => number; set: (t: number) => void } };
  let jobA: Job;
  let pageId: number;
  const keys: Record<string, { id: string; key: string }> = {};

  before(async () => {
    t = await makeAuthApp();
    keys.admin = await addKey(t.store, 'admin', ['admin']);
    keys.owner = await addKey(t.store, 'owner', ['jobs:read', 'jobs:write']);
    keys.other = await addKey(t.store, 'other', ['jobs:read', 'jobs:write']);
    keys.readOnly = await addKey(t.store, 'reader', ['jobs:read']);
    keys.writeOnly = await addKey(t.store, 'writer', ['jobs:write']);
    keys.revoked = await addKey(t.store, 'revoked', ['admin']);
    await t.store.keys.revoke(keys.revoked.id, T0);
    keys.expired = await addKey(t.store, 'expired', ['admin'], { expiresAt: T0 + 1000 });
    keys.victim = await addKey(t.store, 'victim', ['jobs:read']);
    const res = await t.app.inject({ method: 'POST', url: '/jobs', headers: { ...json, ...bearer(keys.owner.key) }, payload: { seeds: ['https://a.example/'], sitemaps: 'skip' } });
    assert.equal(res.statusCode, 201, res.body);
    jobA = res.json();
    await fetchAllSeeds(t.store, jobA, (url) => ({
      url, finalUrl: url, statusCode: 200, title: 'A', bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http',
      linksFound: 0, depth: 0, fetchedAt: T0, contentHash: null, lastmod: null, content: null,
    }));
    const pages = await t.app.inject({ method: 'GET', url: `/jobs/${jobA.id}/pages`, headers: bearer(keys.owner.key) });
    pageId = pages.json().pages[0].id;
    t.clock.set(T0 + 2000);
  });
  after(async () => t.app.close());

  function keyFor(route: Route, who: Who): string | undefined {
    switch (who) {
      case 'none': return undefined;
      case 'unknown': return generateKey();
      case 'revoked': return keys.revoked!.key;
      case 'expired': return keys.expired!.key;
      case 'wrongScope': return route.scope === 'jobs:read' ? keys.writeOnly!.key : route.scope === 'jobs:write' ? keys.readOnly!.key : keys.owner!.key;
      case 'otherKey': return keys.other!.key;
      case 'admin': return keys.admin!.key;
      case 'owner': return keys.owner!.key;
    }
  }

  for (const route of ROUTES) {
    it(route.name, async () => {
      for (const who of WHO) {
        // The state-changing successes run once, by the owner or admin, after everything else.
        if ((route.method === 'DELETE') && who === 'owner') continue;
        const key = keyFor(route, who);
        const headers: Record<string, string> = { ...(key ? bearer(key) : {}), ...(route.body ? json : {}) };
        const res = await t.app.inject({ method: route.method, url: route.url(jobA.id, pageId, keys.victim!.id), headers, payload: route.body as object | undefined });
        const want = expected(route, who);
        assert.equal(res.statusCode, want.status, `${route.name} as ${who}: ${res.body}`);
        if (want.code) assert.equal(res.json().error.code, want.code, `${route.name} as ${who}`);
        if (want.status === 401) assert.equal(res.headers['www-authenticate'], 'Bearer', `${route.name} as ${who}`);
        if (want.code === 'FORBIDDEN') assert.match(res.json().error.message, new RegExp(route.scope), 'a 403 names the scope');
        if (who === 'otherKey' && route.scope !== 'admin') assert.doesNotMatch(res.body, new RegExp(`${jobA.id}|a\\.example`), 'nothing of the job');
      }
    });
  }

  it('the refusals are counted by bounded reason', async () => {
    for (const reason of ['missing', 'unknown', 'revoked', 'expired', 'forbidden']) {
      assert.ok(((await metricValue(t.registry, 'api_auth_failures_total', { reason })) ?? 0) > 0, reason);
    }
  });
});

describe('a key sees only its own jobs (broken object level authorisation sweep)', () => {
  it('key A tries every route on key B\'s job ids and never sees a byte of them', async () => {
    const t = await makeAuthApp();
    try {
      const a = await addKey(t.store, 'a', ['jobs:read', 'jobs:write']);
      const b = await addKey(t.store, 'b', ['jobs:read', 'jobs:write']);
      const bJobs: Job[] = [];
      for (const seed of ['https://b-one.example/', 'https://b-two.example/']) {
        const res = await t.app.inject({ method: 'POST', url: '/jobs', headers: { ...json, ...bearer(b.key) }, payload: { seeds: [seed] } });
        bJobs.push(res.json());
      }
      const aJob = (await t.app.inject({ method: 'POST', url: '/jobs', headers: { ...json, ...bearer(a.key) }, payload: { seeds: ['https://a.example/'] } })).json() as Job;
      const secrets = new RegExp(bJobs.flatMap((j) => [j.id, new URL(j.seeds[0]!).hostname.replace('.', '\\.')]).join('|'), 'i');
      for (const job of bJobs) {
        for (const route of ROUTES.filter((r) => r.onJob)) {
          for (const id of [job.id, job.id.toUpperCase()]) {
            const res = await t.app.inject({ method: route.method, url: route.url(id, 1, ''), headers: { ...bearer(a.key), ...(route.body ? json : {}) }, payload: route.body as object | undefined });
            assert.equal(res.statusCode, 404, `${route.name}: ${res.body}`);
            assert.equal(res.json().error.code, 'JOB_NOT_FOUND');
            assert.doesNotMatch(res.body, secrets, route.name);
          }
        }
      }
      const list = await t.app.inject({ method: 'GET', url: '/jobs?limit=100', headers: bearer(a.key) });
      assert.deepEqual(list.json().jobs.map((j: Job) => j.id), [aJob.id]);
      assert.doesNotMatch(list.body, secrets);
      const after = await t.app.inject({ method: 'GET', url: `/jobs?after=${bJobs[1]!.id}`, headers: bearer(a.key) });
      assert.doesNotMatch(after.body, secrets);
      // B's jobs are untouched by A's attempts.
      for (const job of bJobs) {
        const res = await t.app.inject({ method: 'GET', url: `/jobs/${job.id}`, headers: bearer(b.key) });
        assert.equal(res.json().status, 'queued');
        assert.equal(res.json().keyId, b.id);
      }
    } finally {
      await t.app.close();
    }
  });
});

describe('the console\'s routes under keys', () => {
  it('GET /sites shows a key the sites of its own jobs only, without the proxy pool; admin sees every site and the pool', async () => {
    const t = await makeAuthApp();
    try {
      const admin = await addKey(t.store, 'admin', ['admin']);
      const a = await addKey(t.store, 'a', ['jobs:read', 'jobs:write']);
      const b = await addKey(t.store, 'b', ['jobs:read', 'jobs:write']);
      await t.store.proxies.record({ proxy: 'http://proxy-one.example:3128', failures: 0, cooldownUntil: 0, lastError: null });
      // fetchAllSeeds settles on the wall clock (a job's finishedAt): the window is read at that time too.
      const fetchedAt = Date.now();
      for (const [key, seed] of [[a, 'https://a-shop.example/'], [b, 'https://b-secret.example/']] as const) {
        const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: { ...json, ...bearer(key.key) }, payload: { seeds: [seed], sitemaps: 'skip' } })).json() as Job;
        await fetchAllSeeds(t.store, job, (url) => ({
          url, finalUrl: url, statusCode: 403, title: null, bytes: 1, fetchMs: 5, errorCode: 'http_403', contentType: 'text/html', mode: 'http',
          linksFound: 0, depth: 0, fetchedAt, contentHash: null, lastmod: null, content: null,
        }));
      }
      t.clock.set(fetchedAt + 60_000);
      const seen = async (key: string) => (await t.app.inject({ url: '/sites?window=1h', headers: bearer(key) })).json();
      const asA = await seen(a.key);
      assert.equal(asA.view, 'key');
      assert.deepEqual(asA.sites.map((s: { site: string }) => s.site), ['a-shop.example']);
      assert.deepEqual(asA.proxies, []);
      assert.equal(asA.sites[0].http403, 1);
      assert.doesNotMatch(JSON.stringify(asA), /b-secret|proxy-one/);
      assert.deepEqual((await seen(b.key)).sites.map((s: { site: string }) => s.site), ['b-secret.example']);
      const asAdmin = await seen(admin.key);
      assert.equal(asAdmin.view, 'all');
      assert.deepEqual(asAdmin.sites.map((s: { site: string }) => s.site).sort(), ['a-shop.example', 'b-secret.example']);
      assert.deepEqual(asAdmin.proxies.map((p: { proxy: string }) => p.proxy), ['http://proxy-one.example:3128']);
    } finally {
      await t.app.close();
    }
  });

  it('GET /me tells any key what it is and may do, never its secret; with auth off it says so', async () => {
    const t = await makeAuthApp();
    try {
      for (const scopes of [['jobs:read'], ['jobs:write'], ['admin']] as const) {
        const k = await addKey(t.store, `only-${scopes[0]}`, [...scopes]);
        const res = await t.app.inject({ url: '/me', headers: bearer(k.key) });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.equal(body.auth, 'required');
        assert.equal(body.key.id, k.id);
        assert.deepEqual(body.key.scopes, scopes);
        assert.ok(!res.body.includes(k.key), 'not the secret');
        assert.doesNotMatch(res.body, /"hash"/);
      }
      assert.equal((await t.app.inject({ url: '/me' })).statusCode, 401);
    } finally {
      await t.app.close();
    }
    const open = await makeApp({ auth: { mode: 'off' } });
    try {
      assert.deepEqual((await open.app.inject({ url: '/me' })).json(), { auth: 'off', key: null });
    } finally {
      await open.app.close();
    }
  });

  it('POST /scrape counts against the key\'s request rate', async () => {
    const t = await makeAuthApp();
    try {
      const k = await addKey(t.store, 'slow', ['jobs:read', 'jobs:write'], { rate: 1 });
      const scrape = () => t.app.inject({ method: 'POST', url: '/scrape', headers: { ...json, ...bearer(k.key) }, payload: { url: 'http://127.0.0.1/' } });
      assert.equal((await scrape()).statusCode, 422, 'admitted, then refused for its loopback target');
      const limited = await scrape();
      assert.equal(limited.statusCode, 429, limited.body);
      assert.equal(limited.json().error.code, 'RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      t.clock.advance(1000);
      assert.equal((await scrape()).statusCode, 422, 'a second later the bucket has a token again');
    } finally {
      await t.app.close();
    }
  });
});

describe('keys through the API', () => {
  let t: Awaited<ReturnType<typeof makeAuthApp>>;
  let admin: { id: string; key: string };
  before(async () => {
    t = await makeAuthApp();
    admin = await addKey(t.store, 'admin', ['admin']);
  });
  after(async () => t.app.close());

  it('POST /keys answers the key once; GET /keys never shows it; the key works until DELETE /keys/:id', async () => {
    t.clock.advance(1); // keys list oldest first: one made in the same millisecond as another may come either way
    const created = await t.app.inject({ method: 'POST', url: '/keys', headers: { ...json, ...bearer(admin.key) }, payload: { name: 'ci', scopes: ['jobs:read'], rate: 5, maxRunningJobs: 2, maxPagesPerDay: 100, expiresAt: '2099-01-01T00:00:00Z' } });
    assert.equal(created.statusCode, 201, created.body);
    const body = created.json();
    assert.match(body.key, /^owl_[A-Za-z0-9_-]{43}$/);
    assert.equal(body.prefix, body.key.slice(0, 12));
    assert.deepEqual({ ...body, id: 'x', key: 'x', createdAt: 0 }, {
      id: 'x', key: 'x', createdAt: 0, name: 'ci', scopes: ['jobs:read'], prefix: body.prefix, lastUsedAt: null,
      expiresAt: Date.parse('2099-01-01T00:00:00Z'), revokedAt: null, rate: 5, maxRunningJobs: 2, maxPagesPerDay: 100,
    });
    const list = await t.app.inject({ method: 'GET', url: '/keys', headers: bearer(admin.key) });
    assert.ok(!list.body.includes(body.key), 'the secret is never listed');
    assert.doesNotMatch(list.body, /"hash"|"key"/);
    assert.deepEqual(list.json().keys.map((k: { name: string }) => k.name), ['admin', 'ci']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(body.key) })).statusCode, 200);
    const revoked = await t.app.inject({ method: 'DELETE', url: `/keys/${body.id}`, headers: bearer(admin.key) });
    assert.equal(revoked.statusCode, 200);
    assert.equal(typeof revoked.json().revokedAt, 'number');
    const refused = await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(body.key) });
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().error.message, /revoked/);
    const unknown = await t.app.inject({ method: 'DELETE', url: '/keys/00000000-0000-4000-8000-000000000000', headers: bearer(admin.key) });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'KEY_NOT_FOUND');
  });

  it('a revocation made by another API process (straight in the store) takes effect within KEY_CACHE_MS', async () => {
    const k = await addKey(t.store, 'elsewhere', ['jobs:read']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(k.key) })).statusCode, 200);
    await t.store.keys.revoke(k.id, T0);
    assert.equal((await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(k.key) })).statusCode, 200, 'still trusted from the cache');
    t.clock.advance(KEY_CACHE_MS);
    assert.equal((await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(k.key) })).statusCode, 401);
    t.clock.set(T0);
  });

  it('invalid key specs are 400 VALIDATION naming the field', async () => {
    for (const [payload, field] of [
      [{ name: 'x', scopes: ['jobs:delete'] }, 'scopes'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ scopes: ['admin'] }, 'name'],
      [{ name: 'x', scopes: ['admin'], expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: 'x', scopes: ['admin'], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'x', scopes: ['admin'], rate: 0 }, 'rate'],
      [{ name: 'x', scopes: ['admin'], maxRunningJobs: 1.5 }, 'maxRunningJobs'],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/keys', headers: { ...json, ...bearer(admin.key) }, payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().error.code, 'VALIDATION');
      assert.match(res.json().error.message, new RegExp(field), JSON.stringify(payload));
    }
  });

  it('every write is in the audit trail with time, key, action, target and address; jobs show their key', async () => {
    const writer = await addKey(t.store, 'writer', ['jobs:write', 'jobs:read']);
    const job = (await t.app.inject({ method: 'POST', url: '/jobs', headers: { ...json, ...bearer(writer.key) }, payload: { seeds: ['https://w.example/'] }, remoteAddress: '10.1.2.3' })).json() as Job;
    assert.equal(job.keyId, writer.id);
    await t.app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel`, headers: bearer(writer.key), remoteAddress: '10.1.2.3' });
    await t.app.inject({ method: 'DELETE', url: `/jobs/${job.id}`, headers: bearer(writer.key), remoteAddress: '10.1.2.3' });
    const page = await t.app.inject({ method: 'GET', url: '/audit?limit=3', headers: bearer(admin.key) });
    assert.equal(page.statusCode, 200);
    const entries = page.json().entries;
    assert.deepEqual(entries.map((e: { action: string; target: string; keyId: string; address: string }) => [e.action, e.target, e.keyId, e.address]), [
      ['job.delete', job.id, writer.id, '10.1.2.3'],
      ['job.cancel', job.id, writer.id, '10.1.2.3'],
      ['job.create', job.id, writer.id, '10.1.2.3'],
    ]);
    const older = await t.app.inject({ method: 'GET', url: `/audit?after=${page.json().next}`, headers: bearer(admin.key) });
    const actions = older.json().entries.map((e: { action: string; keyId: string | null }) => [e.action, e.keyId]);
    assert.ok(actions.some(([a, k]: [string, string | null]) => a === 'key.create' && k === null), 'keys made locally are audited with no key');
    assert.ok(actions.some(([a, k]: [string, string | null]) => a === 'key.revoke' && k === admin.id));
  });
});

describe('requests refused before any route runs', () => {
  it('a key in the query string is 400 KEY_IN_QUERY on every route, public ones included', async () => {
    const t = await makeAuthApp();
    try {
      const { key } = await addKey(t.store, 'admin', ['admin']);
      for (const url of [`/jobs?api_key=${key}`, `/jobs?token=x`, `/jobs?limit=5&key=${key}`, `/healthz?access_token=${key}`, `/jobs?x=${encodeURIComponent(key)}`]) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(key) });
        assert.equal(res.statusCode, 400, url);
        assert.equal(res.json().error.code, 'KEY_IN_QUERY', url);
      }
      assert.equal((await metricValue(t.registry, 'api_auth_failures_total', { reason: 'query_key' })), 5);
    } finally {
      await t.app.close();
    }
  });

  it('public routes answer without a key; malformed Authorization headers are 401; unknown routes stay 404', async () => {
    const t = await makeAuthApp();
    try {
      for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 200, url);
      for (const authorization of ['Basic abc', 'Bearer', 'owl_x', `Bearer ${generateKey()} extra`]) {
        const res = await t.app.inject({ method: 'GET', url: '/jobs', headers: { authorization } });
        assert.equal(res.statusCode, 401, authorization);
        assert.equal(res.json().error.code, 'UNAUTHORIZED');
      }
      assert.equal((await t.app.inject({ method: 'GET', url: '/nothing-here' })).statusCode, 404);
      // No body is read or validated before the key is checked.
      const invalid = await t.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: 'not a list' } });
      assert.equal(invalid.statusCode, 401);
    } finally {
      await t.app.close();
    }
  });

  it('routes registered as public (the console\'s static files) answer without a key; the API routes beside them still need one', async () => {
    const t = await makeAuthApp({ auth: { mode: 'required', publicRoutes: ['/ui', '/ui/*'], publicPrefixes: ['/static/'] } });
    try {
      // What @fastify/static registers for a UI at `/ui` (the console's own `/` and `/assets/` are public through buildApp, test/api/console-routes.test.ts).
      t.app.get('/ui', async () => 'console');
      t.app.get('/ui/*', async () => 'asset');
      t.app.get('/static/app.js', async () => 'js');
      t.app.get('/private', async () => 'needs admin');
      assert.equal((await t.app.inject({ method: 'GET', url: '/ui' })).body, 'console');
      assert.equal((await t.app.inject({ method: 'GET', url: '/ui/app.css' })).body, 'asset');
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/app.js' })).body, 'js');
      assert.equal((await t.app.inject({ method: 'GET', url: '/private' })).statusCode, 401, 'a route with no scope needs admin');
      assert.equal((await t.app.inject({ method: 'GET', url: '/jobs' })).statusCode, 401);
    } finally {
      await t.app.close();
    }
  });

  it('OWL_METRICS_TOKEN_FILE: /metrics needs the token', async () => {
    const t = await makeAuthApp({ auth: { mode: 'required', metricsToken: 'scrape-secret' } });
    try {
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer('wrong') })).statusCode, 401);
      assert.equal((await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer('scrape-secret') })).statusCode, 200);
      assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    } finally {
      await t.app.close();
    }
  });
});

describe('limits of a key', () => {
  it('rate: a token bucket; past it 429 RATE_LIMITED with Retry-After, counted', async () => {
    const t = await makeAuthApp();
    try {
      const { key } = await addKey(t.store, 'slow', ['jobs:read'], { rate: 0.5 });
      assert.equal((await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(key) })).statusCode, 200);
      const limited = await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(key) });
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().error.code, 'RATE_LIMITED');
      assert.equal(limited.headers['retry-after'], '2');
      t.clock.advance(2000);
      assert.equal((await t.app.inject({ method: 'GET', url: '/jobs', headers: bearer(key) })).statusCode, 200);
      assert.equal(await metricValue(t.registry, 'api_rate_limited_total', { reason: 'rate' }), 1);
    } finally {
      await t.app.close();
    }
  });

  it('maxRunningJobs: the job past it is 429 QUOTA_EXCEEDED naming the limit; a finished job frees a place', async () => {
    const t = await makeAuthApp();
    try {
      const { key } = await addKey(t.store, 'small', ['jobs:read', 'jobs:write'], { maxRunningJobs: 1 });
      const post = () => t.app.inject({ method: 'POST', url: '/jobs', headers: { ...json, ...bearer(key) }, payload: { seeds: ['https://q.example/'] } });
      const first = await post();
      assert.equal(first.statusCode, 201);
      const second = await post();
      assert.equal(second.statusCode, 429);
      assert.equal(second.json().error.code, 'QUOTA_EXCEEDED');
      assert.match(second.json().error.message, /maxRunningJobs/);
      assert.equal(await metricValue(t.registry, 'api_rate_limited_total', { reason: 'maxRunningJobs' }), 1);
      await t.app.inject({ method: 'POST', url: `/jobs/${first.json().id}/cancel`, headers: bearer(key) });
      assert.equal((await post()).statusCode, 201);
    } finally {
      await t.app.close();
    }
  });
});

describe('OWL_AUTH=off', () => {
  it('is accepted on loopback addresses only, with a message saying why and how', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.0.2', '[::1]']) {
      assert.ok(isLoopbackHost(host), host);
      assertAuthMode('off', host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'owl.example.com']) {
      assert.equal(isLoopbackHost(host), false, host);
      assert.throws(() => assertAuthMode('off', host), (e: unknown) => isOwlError(e, 'CONFIG_INVALID') && /OWL_HOST=127\.0\.0\.1/.test(e.message) && /owl keys create/.test(e.message) && e.message.includes(host));
      assertAuthMode('required', host);
    }
  });
});
