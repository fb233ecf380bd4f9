import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createWebhookMetrics } from '../../src/metrics/registry.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/types.ts';
import { publishEvent } from '../../src/webhooks/publish.ts';
import { nextAttemptAt, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../src/webhooks/retry.ts';
import { outboxGaugeSource } from '../../src/webhooks/outbox-gauge.ts';
import { WebhookSender, type SenderOptions } from '../../src/webhooks/sender.ts';
import { metricValue } from '../api/helpers.ts';
import { closedPort, sendBody, startHttpFixture, type HttpFixture } from '../fixtures/http-fixture.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A clock the test moves by hand, starting now (receivers check the signature's timestamp against real time). */
function manualClock() {
  let t = Date.now();
  return { now: () => t, advance: (ms: number) => (t += ms), set: (v: number) => (t = v) };
}

async function memoryStore(): Promise<Store> {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  return store;
}

function sender(store: Store, clock: { now: () => number }, extra: Partial<SenderOptions> = {}): WebhookSender {
  return new WebhookSender({
    store: store.webhooks,
    timeoutMs: 2_000,
    maxResponseBytes: 64 * 1024,
    retry: DEFAULT_RETRY_POLICY,
    pollMs: 20,
    allowPrivate: true,
    userAgent: 'owl-test',
    now: clock.now,
    ...extra,
  });
}

describe('retry policy', () => {
  it('waits 5 s, 30 s, 2 min, 10 min, 30 min, 1 h … and gives up on the first failure 24 h after the event', () => {
    const t0 = 1_000_000;
    const waits: number[] = [];
    let now = t0;
    for (let attempt = 1; ; attempt++) {
      const next = nextAttemptAt(DEFAULT_RETRY_POLICY, attempt, t0, now);
      if (next === null) break;
      waits.push(next - now);
      now = next;
    }
    assert.deepEqual(waits.slice(0, 6), [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000]);
    assert.ok(now - t0 >= 24 * 3_600_000, `the last attempt came ${(now - t0) / 3_600_000} h after the event`);
    assert.equal(waits.length + 1, 12, 'twelve attempts in all');
    const short: RetryPolicy = { scheduleMs: [10, 20], retryForMs: 100 };
    assert.deepEqual([1, 2, 3, 4].map((a) => nextAttemptAt(short, a, 0, 50)), [60, 70, 70, 70], 'the last wait repeats');
    assert.equal(nextAttemptAt(short, 5, 0, 100), null);
  });
});

describe('webhook sender', () => {
  let store: Store;
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver(SECRET);
  });
  after(async () => {
    await receiver.close();
  });

  it('signs each attempt (Standard Webhooks), retries on the schedule, and a 2xx ends it; counted by event and outcome', async () => {
    store = await memoryStore();
    const clock = manualClock();
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    const s = sender(store, clock, { metrics });
    receiver.failFirst = 2;
    const hook = await store.webhooks.create({ url: receiver.url, events: ['job.completed'], secret: SECRET }, clock.now());
    const published = await publishEvent(store, { type: 'job.completed', jobId: 'j-1', data: { status: 'done' } }, clock.now());
    const t0 = clock.now();

    assert.equal(await s.runOnce(), 1);
    let [d] = await store.webhooks.deliveries(hook.id, { limit: 1 });
    assert.deepEqual([d!.status, d!.attempts, d!.nextAttemptAt, d!.lastError, d!.lastStatusCode], ['pending', 1, t0 + 5_000, 'http_500: not yet (attempt 1)', 500]);
    clock.advance(4_999);
    assert.equal(await s.runOnce(), 0, 'not due before 5 s');
    clock.advance(1);
    assert.equal(await s.runOnce(), 1);
    [d] = await store.webhooks.deliveries(hook.id, { limit: 1 });
    assert.deepEqual([d!.attempts, d!.nextAttemptAt], [2, t0 + 5_000 + 30_000]);
    clock.advance(30_000);
    assert.equal(await s.runOnce(), 1);
    [d] = await store.webhooks.deliveries(hook.id, { limit: 1 });
    assert.deepEqual([d!.status, d!.attempts, d!.lastStatusCode, d!.finishedAt], ['delivered', 3, 204, t0 + 35_000]);
    clock.advance(10 ** 9);
    assert.equal(await s.runOnce(), 0, 'never sent again');

    assert.equal(receiver.attempts.get(published.eventId), 3);
    assert.equal(receiver.acknowledged.get(published.eventId), 1);
    assert.deepEqual(receiver.rejected, []);
    const event = receiver.events.find((e) => e.id === published.eventId);
    assert.deepEqual(event, { id: published.eventId, type: 'job.completed', timestamp: new Date(t0).toISOString(), data: { jobId: 'j-1', scheduleId: null, status: 'done' } });
    assert.equal(await metricValue(registry, 'webhook_deliveries_total', { event: 'job.completed', outcome: 'retried' }), 2);
    assert.equal(await metricValue(registry, 'webhook_deliveries_total', { event: 'job.completed', outcome: 'delivered' }), 1);
    assert.equal(await metricValue(registry, 'webhook_deliveries_total', { event: 'page.changed', outcome: 'failed' }), 0, 'every series is served from the start');
    await s.close();
    await store.close();
  });

  it('gives up once an attempt fails after the retry window (failed, counted)', async () => {
    store = await memoryStore();
    const clock = manualClock();
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    const s = sender(store, clock, { metrics, retry: { scheduleMs: [1_000], retryForMs: 2_500 } });
    receiver.failFirst = 100;
    const hook = await store.webhooks.create({ url: receiver.url, events: ['job.failed'], secret: SECRET }, clock.now());
    await publishEvent(store, { type: 'job.failed', jobId: 'j-2', data: {} }, clock.now());
    for (let i = 0; i < 5; i++) {
      await s.runOnce();
      clock.advance(1_000);
    }
    const [d] = await store.webhooks.deliveries(hook.id, { limit: 1 });
    assert.deepEqual([d!.status, d!.attempts, d!.nextAttemptAt], ['failed', 4, null], 'attempts at 0, 1, 2 and 3 s; the one at 3 s is past 2.5 s');
    assert.equal(await metricValue(registry, 'webhook_deliveries_total', { event: 'job.failed', outcome: 'retried' }), 3);
    assert.equal(await metricValue(registry, 'webhook_deliveries_total', { event: 'job.failed', outcome: 'failed' }), 1);
    await s.close();
    await store.close();
    receiver.failFirst = 0;
  });

  it('refuses loopback receivers unless private targets are allowed, by literal address and by DNS at delivery time', async () => {
    store = await memoryStore();
    const clock = manualClock();
    const s = sender(store, clock, { allowPrivate: false });
    const port = new URL(receiver.url).port;
    const literal = await store.webhooks.create({ url: `http://127.0.0.1:${port}/hook`, events: ['job.completed'], secret: SECRET });
    const named = await store.webhooks.create({ url: `http://localhost:${port}/hook`, events: ['job.completed'], secret: SECRET });
    const metadata = await store.webhooks.create({ url: 'http://metadata.google.internal/hook', events: ['job.completed'], secret: SECRET });
    const before = receiver.fixture.totalHits();
    await publishEvent(store, { type: 'job.completed', data: {} }, clock.now());
    assert.equal(await s.runOnce(), 3);
    for (const w of [literal, named, metadata]) {
      const [d] = await store.webhooks.deliveries(w.id, { limit: 1 });
      assert.equal(d!.status, 'pending');
      assert.match(d!.lastError ?? '', /^target_forbidden: /, `${w.url}: ${d!.lastError}`);
    }
    assert.equal(receiver.fixture.totalHits(), before, 'nothing reached the receiver');
    await s.close();
    await store.close();
  });

  describe('bounds', () => {
    let rude: HttpFixture;
    let floodClosed!: Promise<number>;
    let floodDone: (bytes: number) => void;
    floodClosed = new Promise((resolve) => {
      floodDone = resolve;
    });
    before(async () => {
      rude = await startHttpFixture((req: http.IncomingMessage, res: http.ServerResponse, at) => {
        req.resume();
        if (at.pathname === '/hang') return; // never answers
        if (at.pathname === '/redirect') {
          sendBody(res, 302, '', { location: `${at.origin}/elsewhere` });
          return;
        }
        if (at.pathname === '/flood') {
          // An endless error page: the sender must stop reading.
          res.writeHead(500, { 'content-type': 'text/plain' });
          const chunk = Buffer.alloc(16 * 1024, 'x');
          let written = 0;
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) written += chunk.length;
            res.once('drain', pump);
          };
          res.on('close', () => floodDone(written));
          pump();
          return;
        }
        sendBody(res, 200, 'ok', {});
      });
    });
    after(async () => {
      await rude.close();
    });

    async function attemptOne(path: string, extra: Partial<SenderOptions> = {}) {
      store = await memoryStore();
      const clock = manualClock();
      const s = sender(store, clock, extra);
      const w = await store.webhooks.create({ url: `${rude.url}${path}`, events: ['job.completed'], secret: SECRET });
      await publishEvent(store, { type: 'job.completed', data: {} }, clock.now());
      await s.runOnce();
      const [d] = await store.webhooks.deliveries(w.id, { limit: 1 });
      await s.close();
      await store.close();
      return d!;
    }

    it('an attempt that gets no answer ends as a timeout and waits for its retry', async () => {
      const d = await attemptOne('/hang', { timeoutMs: 300 });
      assert.deepEqual([d.status, d.lastError, d.lastStatusCode], ['pending', 'timeout', null]);
    });

    it('redirects are not followed (a 3xx is a failed attempt)', async () => {
      const d = await attemptOne('/redirect');
      assert.deepEqual([d.status, d.lastError, d.lastStatusCode], ['pending', 'http_302', 302]);
      assert.equal(rude.hits('/elsewhere'), 0);
    });

    it('an endless answer is read up to the size bound, and its error keeps a short excerpt', async () => {
      const d = await attemptOne('/flood', { maxResponseBytes: 100_000 });
      assert.equal(d.lastStatusCode, 500);
      assert.equal(d.lastError, `http_500: ${'x'.repeat(200)}`);
      const written = await floodClosed;
      assert.ok(written < 10 * 1024 * 1024, `the sender dropped the connection after ${written} bytes were written`);
    });

    it('an unreachable receiver is a network failure', async () => {
      store = await memoryStore();
      const clock = manualClock();
      const s = sender(store, clock);
      const w = await store.webhooks.create({ url: `http://127.0.0.1:${await closedPort()}/`, events: ['job.completed'], secret: SECRET });
      await publishEvent(store, { type: 'job.completed', data: {} }, clock.now());
      await s.runOnce();
      const [d] = await store.webhooks.deliveries(w.id, { limit: 1 });
      assert.deepEqual([d!.status, d!.lastError], ['pending', 'network: ECONNREFUSED']);
      await s.close();
      await store.close();
    });
  });

  it('started, it polls the outbox and delivers what is published; close() stops it', async () => {
    store = await memoryStore();
    const s = sender(store, { now: Date.now }, { pollMs: 20 });
    const w = await store.webhooks.create({ url: receiver.url, events: ['page.changed'], secret: SECRET });
    s.start();
    const published = await publishEvent(store, { type: 'page.changed', jobId: 'j', scheduleId: 's', data: { counts: { new: 1, changed: 0, unchanged: 0, gone: 0 }, changes: [] } });
    s.wake();
    for (let i = 0; i < 500 && !receiver.acknowledged.has(published.eventId); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(receiver.acknowledged.get(published.eventId), 1);
    await s.close();
    const [d] = await store.webhooks.deliveries(w.id, { limit: 1 });
    assert.equal(d!.status, 'delivered');
    await store.close();
  });
});

describe('delivery retention', () => {
  it('a running sender removes deliveries finished longer ago than the retention, and keeps pending ones', async () => {
    const store = await memoryStore();
    const clock = manualClock();
    const receiver = await startReceiver(SECRET);
    try {
      const s = sender(store, clock, { retentionMs: 60_000, pollMs: 10 });
      const ok = await store.webhooks.create({ url: receiver.url, events: ['job.failed'], secret: SECRET });
      const down = await store.webhooks.create({ url: `http://127.0.0.1:${await closedPort()}/`, events: ['job.failed'], secret: SECRET });
      await publishEvent(store, { type: 'job.failed', data: {} }, clock.now());
      assert.equal(await s.runOnce(), 2);
      clock.advance(60_001);
      s.start();
      let left = 1;
      for (let i = 0; i < 500 && left > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        left = (await store.webhooks.deliveries(ok.id, { limit: 10 })).length;
      }
      assert.equal(left, 0, 'the delivered one is gone');
      await s.close();
      assert.deepEqual((await store.webhooks.deliveries(down.id, { limit: 10 })).map((d) => d.status), ['pending'], 'the pending one stays');
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});

describe('outbox gauges', () => {
  it('read the outbox at scrape time, and keep their last values while the store fails', async () => {
    const store = await memoryStore();
    const clock = manualClock();
    const w = await store.webhooks.create({ url: 'https://h.example/', events: ['job.failed'], secret: SECRET });
    await publishEvent(store, { type: 'job.failed', data: {} }, clock.now());
    let broken = false;
    const webhooks = { ...store.webhooks, stats: (o: { failingAttempts: number; now?: number }) => (broken ? Promise.reject(new Error('ECONNREFUSED')) : store.webhooks.stats(o)) };
    const read = outboxGaugeSource(webhooks, clock.now);
    clock.advance(90_000);
    assert.deepEqual(await read(), { depth: 1, oldestAgeSeconds: 90, failing: 0 });
    for (let i = 0; i < 3; i++) {
      const [c] = await store.webhooks.claimDue({ limit: 1, leaseMs: 1, now: clock.now() });
      await store.webhooks.complete(c!.id, c!.leaseToken, { status: 'pending', nextAttemptAt: clock.now(), error: 'http_500', statusCode: 500 }, clock.now());
    }
    assert.deepEqual(await read(), { depth: 1, oldestAgeSeconds: 90, failing: 1 });
    broken = true;
    assert.deepEqual(await read(), { depth: 1, oldestAgeSeconds: 90, failing: 1 });
    broken = false;
    await store.webhooks.delete(w.id);
    assert.deepEqual(await read(), { depth: 0, oldestAgeSeconds: 0, failing: 0 });
    await store.close();
  });
});
