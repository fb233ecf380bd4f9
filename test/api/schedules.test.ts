import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { json, makeApp, type TestApp } from './helpers.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const JOB = { seeds: ['https://shop.example/'] };

describe('schedule routes', () => {
  let t: TestApp;
  before(async () => {
    t = await makeApp({ now: () => NOW });
  });
  after(() => t.app.close());

  const post = (payload: unknown) => t.app.inject({ method: 'POST', url: '/schedules', headers: json, payload: payload as object });

  it('POST /schedules → 201 with defaults and the next run; GET reads it back', async () => {
    const res = await post({ name: 'prices', cron: '*/15 * * * *', job: JOB });
    assert.equal(res.statusCode, 201);
    const s = res.json();
    assert.equal(res.headers.location, `/schedules/${s.id}`);
    assert.deepEqual({ ...s, id: 'x' }, {
      id: 'x', name: 'prices', cron: '*/15 * * * *', timezone: 'UTC', overlap: 'skip', revisit: 'all', enabled: true, keyId: null,
      nextRunAt: NOW + 15 * 60_000, createdAt: NOW, updatedAt: NOW,
      job: {
        seeds: ['https://shop.example/'], maxPages: 1000, maxDepth: 5, scope: 'host', mode: 'http', screenshots: false, source: 'schedule',
        formats: ['metadata'], onlyMainContent: true, extract: null, sitemaps: 'include',
      },
    });
    assert.deepEqual((await t.app.inject({ method: 'GET', url: `/schedules/${s.id}` })).json(), s);
    const disabled = (await post({ cron: '0 0 * * *', timezone: 'Europe/Paris', job: JOB, enabled: false, overlap: 'queue', revisit: 'adaptive' })).json();
    assert.equal(disabled.nextRunAt, null);
    assert.equal(disabled.overlap, 'queue');
    assert.equal(disabled.revisit, 'adaptive');
  });

  it('400s name the bad field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ job: JOB }, /cron is required/],
      [{ cron: '* * *', job: JOB }, /^cron is not a valid cron pattern/],
      [{ cron: '* * * * *', timezone: 'Nowhere/Land', job: JOB }, /^timezone must be an IANA time zone/],
      [{ cron: '*/5 * * * * *', job: JOB }, /^cron runs 5 s apart; the shortest interval allowed is 60 s \(OWL_MIN_SCHEDULE_INTERVAL_MS\)/],
      [{ cron: '* * * * *', job: {} }, /^job\.seeds is required/],
      [{ cron: '* * * * *', job: { seeds: ['ftp://x'] } }, /^job\.seeds\[0\] is not an absolute http\(s\) URL/],
      [{ cron: '* * * * *', job: { ...JOB, maxDepht: 3 } }, /job has an unknown property "maxDepht"/],
      [{ cron: '* * * * *', job: JOB, overlap: 'wait' }, /^overlap must be one of: skip, queue/],
      [{ cron: '* * * * *', job: JOB, revisit: 'some' }, /^revisit must be one of: all, adaptive/],
      [{ cron: '* * * * *', job: JOB, every: 5 }, /the body has an unknown property "every"/],
    ];
    for (const [payload, message] of cases) {
      const res = await post(payload);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${JSON.stringify(payload)} → ${res.statusCode}`);
      const body = res.json();
      assert.match(body.error.message, message, JSON.stringify(payload));
    }
    const privateSeed = await post({ cron: '* * * * *', job: { seeds: ['http://127.0.0.1/'] } });
    assert.equal(privateSeed.statusCode, 422);
    assert.match(privateSeed.json().error.message, /^job\.seeds\[0\]:/);
  });

  it('lists with keyset pagination, patches, lists runs, deletes; unknown ids are 404', async () => {
    const local = await makeApp({ now: () => NOW });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await local.app.inject({ method: 'POST', url: '/schedules', headers: json, payload: { cron: `${i} * * * *`, job: JOB } })).json().id);
      }
      const first = (await local.app.inject({ method: 'GET', url: '/schedules?limit=2' })).json();
      assert.deepEqual(first.schedules.map((s: { id: string }) => s.id), ids.slice(0, 2));
      assert.equal(first.next, ids[1]);
      const second = (await local.app.inject({ method: 'GET', url: `/schedules?limit=2&after=${first.next}` })).json();
      assert.deepEqual(second.schedules.map((s: { id: string }) => s.id), ids.slice(2));
      assert.equal(second.next, null);

      const patch = (id: string, payload: unknown) => local.app.inject({ method: 'PATCH', url: `/schedules/${id}`, headers: json, payload: payload as object });
      const off = (await patch(ids[0]!, { enabled: false, name: 'off' })).json();
      assert.deepEqual([off.enabled, off.nextRunAt, off.name], [false, null, 'off']);
      const on = (await patch(ids[0]!, { enabled: true, cron: '30 12 * * *' })).json();
      assert.deepEqual([on.enabled, on.cron, on.nextRunAt], [true, '30 12 * * *', NOW + 30 * 60_000]);
      assert.equal((await patch(ids[0]!, { cron: '* * * * * *' })).statusCode, 400);
      assert.equal((await patch(ids[0]!, {})).statusCode, 400);
      assert.match((await patch(ids[0]!, { job: { seeds: [] } })).json().error.message, /^job\.seeds must have at least 1 item/);
      const renamed = (await patch(ids[0]!, { overlap: 'queue', job: { seeds: ['https://other.example/'] } })).json();
      assert.deepEqual([renamed.overlap, renamed.job.seeds, renamed.nextRunAt], ['queue', ['https://other.example/'], NOW + 30 * 60_000]);

      const runs = await local.app.inject({ method: 'GET', url: `/schedules/${ids[0]}/runs` });
      assert.deepEqual(runs.json(), { runs: [], next: null });

      assert.equal((await local.app.inject({ method: 'DELETE', url: `/schedules/${ids[0]}` })).statusCode, 204);
      for (const [method, url] of [['GET', `/schedules/${ids[0]}`], ['DELETE', `/schedules/${ids[0]}`], ['GET', `/schedules/${ids[0]}/runs`], ['GET', '/schedules/nope']] as const) {
        const res = await local.app.inject({ method, url });
        assert.equal(res.statusCode, 404, `${method} ${url}`);
        assert.equal(res.json().error.code, 'SCHEDULE_NOT_FOUND');
      }
      assert.equal((await patch('00000000-0000-4000-8000-000000000000', { name: 'x' })).statusCode, 404);
    } finally {
      await local.app.close();
    }
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of ['/schedules', '/schedules/{id}', '/schedules/{id}/runs', '/jobs/{id}/changes', '/jobs/{id}/pages/{pageId}/diff']) {
      assert.ok(doc.paths[path], `${path} missing from /openapi.json`);
    }
  });
});

describe('schedule routes with API keys', () => {
  it("a schedule is its creator key's: others see 404, an admin sees all, writes need jobs:write, and writes are audited", async () => {
    const { makeAuthApp, addKey, bearer } = await import('../auth/helpers.ts');
    const t = await makeAuthApp();
    try {
      const a = await addKey(t.store, 'a', ['jobs:read', 'jobs:write']);
      const b = await addKey(t.store, 'b', ['jobs:read', 'jobs:write']);
      const reader = await addKey(t.store, 'reader', ['jobs:read']);
      const admin = await addKey(t.store, 'admin', ['admin']);
      const as = (k: { key: string }, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
        t.app.inject({ method, url, headers: { ...bearer(k.key), ...(payload ? json : {}) }, ...(payload ? { payload: payload as object } : {}) });
      assert.equal((await t.app.inject({ method: 'GET', url: '/schedules' })).statusCode, 401);
      const created = await as(a, 'POST', '/schedules', { cron: '0 * * * *', job: JOB });
      assert.equal(created.statusCode, 201);
      const s = created.json();
      assert.equal(s.keyId, a.id);
      assert.equal((await as(reader, 'POST', '/schedules', { cron: '0 * * * *', job: JOB })).statusCode, 403);
      for (const [method, url] of [['GET', `/schedules/${s.id}`], ['GET', `/schedules/${s.id}/runs`], ['DELETE', `/schedules/${s.id}`]] as const) {
        assert.equal((await as(b, method, url)).statusCode, 404, `${method} ${url} as another key`);
      }
      assert.equal((await as(b, 'PATCH', `/schedules/${s.id}`, { enabled: false })).statusCode, 404);
      assert.deepEqual((await as(b, 'GET', '/schedules')).json().schedules, []);
      assert.deepEqual((await as(a, 'GET', '/schedules')).json().schedules.map((x: { id: string }) => x.id), [s.id]);
      assert.deepEqual((await as(admin, 'GET', '/schedules')).json().schedules.map((x: { id: string }) => x.id), [s.id]);
      assert.equal((await as(a, 'PATCH', `/schedules/${s.id}`, { name: 'mine' })).json().name, 'mine');
      assert.equal((await as(admin, 'DELETE', `/schedules/${s.id}`)).statusCode, 204);
      const job = (await as(a, 'POST', '/jobs', JOB)).json();
      assert.deepEqual((await as(a, 'GET', `/jobs/${job.id}/changes`)).json(), { changes: [], next: null });
      assert.equal((await as(b, 'GET', `/jobs/${job.id}/changes`)).statusCode, 404);
      assert.equal((await as(b, 'GET', `/jobs/${job.id}/pages/1/diff`)).statusCode, 404);
      const actions = (await as(admin, 'GET', '/audit')).json().entries.map((e: { action: string; keyId: string }) => [e.action, e.keyId]);
      for (const expected of [['schedule.create', a.id], ['schedule.update', a.id], ['schedule.delete', admin.id]]) {
        assert.ok(actions.some((x: string[]) => x[0] === expected[0] && x[1] === expected[1]), `${expected.join(' by ')} in ${JSON.stringify(actions)}`);
      }
    } finally {
      await t.app.close();
    }
  });
});
