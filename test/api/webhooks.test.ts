import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { CANCEL_REASON } from '../../src/api/routes/jobs.ts';
import { json, makeApp, type TestApp } from './helpers.ts';
import { addKey, bearer, makeAuthApp } from '../auth/helpers.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('webhook routes', () => {
  let t: TestApp;
  let woken = 0;
  before(async () => {
    t = await makeApp({ onWebhookEvent: () => woken++ });
  });
  after(async () => {
    await t.app.close();
  });

  const create = (payload: unknown) => t.app.inject({ method: 'POST', url: '/webhooks', headers: json, payload: payload as object });

  it('POST /webhooks registers a receiver and shows its generated signing secret once', async () => {
    const res = await create({ url: 'https://hooks.example.com/owl', events: ['job.completed', 'page.changed'] });
    assert.equal(res.statusCode, 201, res.body);
    const hook = res.json();
    assert.equal(res.headers.location, `/webhooks/${hook.id}`);
    assert.deepEqual(Object.keys(hook).sort(), ['createdAt', 'events', 'id', 'keyId', 'secret', 'url']);
    assert.equal(hook.url, 'https://hooks.example.com/owl');
    assert.deepEqual(hook.events, ['job.completed', 'page.changed']);
    assert.equal(hook.keyId, null);
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    // The secret is what standardwebhooks expects: it signs and verifies.
    const wh = new Webhook(hook.secret);
    const now = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': wh.sign('msg_1', now, '{}') };
    assert.deepEqual(wh.verify('{}', headers), {});

    const read = await t.app.inject({ method: 'GET', url: `/webhooks/${hook.id}` });
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().secret, undefined, 'never shown again');
    const list = await t.app.inject({ method: 'GET', url: '/webhooks' });
    assert.ok(list.json().webhooks.every((w: Record<string, unknown>) => !('secret' in w)));
    assert.ok(!list.body.includes(hook.secret));
  });

  it('a client may bring its own secret', async () => {
    const res = await create({ url: 'https://hooks.example.com/mine', events: ['job.failed'], secret: SECRET });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().secret, SECRET);
  });

  for (const [what, payload, status, code, message] of [
    ['no url', { events: ['job.failed'] }, 400, 'VALIDATION', /url/],
    ['no events', { url: 'https://h.example/' }, 400, 'VALIDATION', /events/],
    ['an empty event list', { url: 'https://h.example/', events: [] }, 400, 'VALIDATION', /events/],
    ['an unknown event', { url: 'https://h.example/', events: ['job.completed', 'job.exploded'] }, 400, 'VALIDATION', /events\[1\]/],
    ['a repeated event', { url: 'https://h.example/', events: ['job.failed', 'job.failed'] }, 400, 'VALIDATION', /events/],
    ['webhook.test as a subscription', { url: 'https://h.example/', events: ['webhook.test'] }, 400, 'VALIDATION', /events\[0\]/],
    ['events as a string', { url: 'https://h.example/', events: 'job.failed' }, 400, 'VALIDATION', /events/],
    ['an unknown field', { url: 'https://h.example/', events: ['job.failed'], colour: 'red' }, 400, 'VALIDATION', /colour/],
    ['a secret without whsec_', { url: 'https://h.example/', events: ['job.failed'], secret: 'hunter2' }, 400, 'VALIDATION', /secret/],
    ['a secret too short', { url: 'https://h.example/', events: ['job.failed'], secret: 'whsec_c2hvcnQ=' }, 400, 'VALIDATION', /secret/],
    ['a relative url', { url: '/hook', events: ['job.failed'] }, 422, 'INVALID_URL', /url/],
    ['an ftp url', { url: 'ftp://h.example/', events: ['job.failed'] }, 422, 'INVALID_URL', /url/],
    ['credentials in the url', { url: 'https://u:p@h.example/', events: ['job.failed'] }, 422, 'INVALID_URL', /url/],
    ['a loopback receiver', { url: 'http://127.0.0.1:9000/hook', events: ['job.failed'] }, 422, 'TARGET_FORBIDDEN', /url: .*OWL_ALLOW_PRIVATE_TARGETS/],
    ['a private receiver', { url: 'http://10.1.2.3/hook', events: ['job.failed'] }, 422, 'TARGET_FORBIDDEN', /url/],
    ['the metadata service', { url: 'http://169.254.169.254/latest', events: ['job.failed'] }, 422, 'TARGET_FORBIDDEN', /url/],
    ['a metadata host name', { url: 'http://metadata.google.internal/', events: ['job.failed'] }, 422, 'TARGET_FORBIDDEN', /url/],
  ] as const) {
    it(`POST /webhooks refuses ${what} (${status} ${code} naming the field)`, async () => {
      const res = await create(payload);
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().error.code, code);
      assert.match(res.json().error.message, message);
    });
  }

  it('private receivers are accepted when the operator allows private targets', async () => {
    const open = await makeApp({ config: { allowPrivateTargets: true } });
    try {
      const res = await open.app.inject({ method: 'POST', url: '/webhooks', headers: json, payload: { url: 'http://127.0.0.1:9000/hook', events: ['job.failed'] } });
      assert.equal(res.statusCode, 201, res.body);
    } finally {
      await open.app.close();
    }
  });

  it('GET /webhooks pages oldest first; DELETE removes one; unknown ids are 404 WEBHOOK_NOT_FOUND', async () => {
    const fresh = await makeApp();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fresh.app.inject({ method: 'POST', url: '/webhooks', headers: json, payload: { url: `https://h${i}.example/`, events: ['job.failed'] } });
        ids.push(res.json().id);
      }
      const first = (await fresh.app.inject({ method: 'GET', url: '/webhooks?limit=2' })).json();
      assert.deepEqual(first.webhooks.map((w: { id: string }) => w.id), ids.slice(0, 2));
      assert.equal(first.next, ids[1]);
      const second = (await fresh.app.inject({ method: 'GET', url: `/webhooks?limit=2&after=${first.next}` })).json();
      assert.deepEqual(second.webhooks.map((w: { id: string }) => w.id), [ids[2]]);
      assert.equal(second.next, null);
      assert.equal((await fresh.app.inject({ method: 'GET', url: '/webhooks?limit=0' })).statusCode, 400);

      assert.equal((await fresh.app.inject({ method: 'DELETE', url: `/webhooks/${ids[0]}` })).statusCode, 204);
      for (const url of [`/webhooks/${ids[0]}`, '/webhooks/nope', '/webhooks/00000000-0000-4000-8000-000000000000/deliveries']) {
        const res = await fresh.app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 404, url);
        assert.equal(res.json().error.code, 'WEBHOOK_NOT_FOUND');
      }
      assert.equal((await fresh.app.inject({ method: 'DELETE', url: `/webhooks/${ids[0]}` })).statusCode, 404);
      assert.equal((await fresh.app.inject({ method: 'POST', url: `/webhooks/${ids[0]}/test` })).statusCode, 404);
    } finally {
      await fresh.app.close();
    }
  });

  it('POST /webhooks/:id/test queues a webhook.test event for that webhook alone and wakes the sender', async () => {
    const a = (await create({ url: 'https://a.example/', events: ['job.failed'] })).json();
    const b = (await create({ url: 'https://b.example/', events: ['job.failed'] })).json();
    const before = woken;
    const res = await t.app.inject({ method: 'POST', url: `/webhooks/${b.id}/test` });
    assert.equal(res.statusCode, 202, res.body);
    assert.match(res.json().eventId, /^msg_[0-9a-f]{32}$/);
    assert.equal(woken, before + 1);
    const deliveries = (await t.app.inject({ method: 'GET', url: `/webhooks/${b.id}/deliveries` })).json();
    assert.deepEqual(deliveries.deliveries.map((d: Record<string, unknown>) => [d.eventType, d.eventId, d.status, d.attempts, d.lastError]), [
      ['webhook.test', res.json().eventId, 'pending', 0, null],
    ]);
    assert.equal(deliveries.next, null);
    assert.deepEqual((await t.app.inject({ method: 'GET', url: `/webhooks/${a.id}/deliveries` })).json().deliveries, []);
  });

  it('a job cancelled through the API is delivered to subscribers as job.cancelled; deliveries page newest first', async () => {
    const fresh = await makeApp();
    try {
      const hook = (await fresh.app.inject({ method: 'POST', url: '/webhooks', headers: json, payload: { url: 'https://h.example/', events: ['job.cancelled'] } })).json();
      const jobs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const job = (await fresh.app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { seeds: [`https://site${i}.example/`] } })).json();
        jobs.push(job.id);
        assert.equal((await fresh.app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel` })).json().reason, CANCEL_REASON);
      }
      const page1 = (await fresh.app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries?limit=2` })).json();
      const page2 = (await fresh.app.inject({ method: 'GET', url: `/webhooks/${hook.id}/deliveries?limit=2&after=${page1.next}` })).json();
      assert.equal(page2.next, null);
      const all = [...page1.deliveries, ...page2.deliveries];
      assert.deepEqual(all.map((d: { eventType: string }) => d.eventType), ['job.cancelled', 'job.cancelled', 'job.cancelled']);
      assert.ok(all[0].id > all[1].id && all[1].id > all[2].id, 'newest first');
      const [claimed] = await fresh.store.webhooks.claimDue({ limit: 1, leaseMs: 1000 });
      assert.deepEqual(JSON.parse(claimed!.payload).data.jobId, jobs[0]);
    } finally {
      await fresh.app.close();
    }
  });

  it('a store outage is 503 STORE_UNAVAILABLE', async () => {
    t.store.broken = true;
    try {
      const res = await t.app.inject({ method: 'GET', url: '/webhooks' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().error.code, 'STORE_UNAVAILABLE');
    } finally {
      t.store.broken = false;
    }
  });
});

describe('webhook routes with API keys', () => {
  it('need the admin scope; record the creating key and audit creation and deletion', async () => {
    const t = await makeAuthApp();
    try {
      const admin = await addKey(t.store, 'ops', ['admin']);
      const writer = await addKey(t.store, 'crawler', ['jobs:read', 'jobs:write']);
      const body = { url: 'https://hooks.example.com/', events: ['job.completed'] };
      const anonymous = await t.app.inject({ method: 'POST', url: '/webhooks', headers: json, payload: body });
      assert.equal(anonymous.statusCode, 401);
      for (const [method, url] of [['POST', '/webhooks'], ['GET', '/webhooks']] as const) {
        const res = await t.app.inject({ method, url, headers: { ...json, ...bearer(writer.key) }, payload: method === 'POST' ? body : undefined });
        assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
      }
      const created = await t.app.inject({ method: 'POST', url: '/webhooks', headers: { ...json, ...bearer(admin.key) }, payload: body });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().keyId, admin.id);
      const id = created.json().id as string;
      assert.equal((await t.app.inject({ method: 'DELETE', url: `/webhooks/${id}`, headers: bearer(admin.key) })).statusCode, 204);
      const audit = (await t.app.inject({ method: 'GET', url: '/audit', headers: bearer(admin.key) })).json().entries as Array<{ action: string; keyId: string; target: string }>;
      assert.deepEqual(audit.filter((e) => e.action.startsWith('webhook.')).map((e) => [e.action, e.keyId, e.target]), [
        ['webhook.delete', admin.id, id],
        ['webhook.create', admin.id, id],
      ]);
    } finally {
      await t.app.close();
    }
  });
});
