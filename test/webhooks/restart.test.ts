/**
 * The proof of the outbox: a real `owl serve` (SQLite), or `owl serve` plus an `owl worker`
 * (PostgreSQL, two senders), delivers job and test events to a receiver that verifies every
 * signature with the `standardwebhooks` package and fails the first attempts; the processes are
 * SIGKILLed while the receiver is failing and started again. Every event arrives, verified, and
 * is acknowledged exactly once per webhook-id. The retry schedule is shortened by setting
 * (OWL_WEBHOOK_RETRY_SCHEDULE), nothing is timed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { api } from '../bin/serve-process.ts';
import { startApi, startWorker, waitFor, type OwlProcess } from '../scale/processes.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const EVENTS = ['job.completed', 'job.failed', 'job.cancelled'];

const SENDER_ENV = {
  OWL_ALLOW_PRIVATE_TARGETS: 'true',
  OWL_RESPECT_ROBOTS: 'false',
  OWL_HOST_DELAY_MS: '0',
  OWL_WEBHOOK_RETRY_SCHEDULE: '200,400',
  OWL_WEBHOOK_POLL_MS: '50',
  OWL_WEBHOOK_TIMEOUT_MS: '2000',
};

interface Delivery {
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
}

async function deliveries(base: string, webhookId: string): Promise<Delivery[]> {
  return (await api<{ deliveries: Delivery[] }>(base, 'GET', `/webhooks/${webhookId}/deliveries?limit=500`)).body.deliveries;
}

/**
 * Publishes five events through the API (a crawl that completes, one failed and two cancelled
 * jobs, a test event) while the receiver refuses everything, kills `procs` with SIGKILL once each
 * event was attempted, lets the receiver fail one more attempt per event after the restart, and
 * checks what it acknowledged.
 */
async function proveOutbox(start: () => Promise<OwlProcess[]>, site: FixtureSite, receiver: Receiver): Promise<void> {
  receiver.failFirst = Number.POSITIVE_INFINITY;
  let procs = await start();
  const base = procs[0]!.url;
  try {
    const created = await api(base, 'POST', '/webhooks', { url: receiver.url, events: EVENTS, secret: SECRET });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const hookId = created.body.id as string;

    const crawl = await api(base, 'POST', '/jobs', { seeds: [`${site.url}/`], maxPages: 5, respectRobots: false });
    assert.equal(crawl.status, 201, JSON.stringify(crawl.body));
    const jobIds: string[] = [crawl.body.id];
    for (const end of ['fail', 'cancel', 'cancel']) {
      const job = await api(base, 'POST', '/jobs', { seeds: [`${site.url}/never-${jobIds.length}`], respectRobots: false });
      jobIds.push(job.body.id);
      const ended = await api(base, 'POST', `/jobs/${job.body.id}/${end}`, end === 'fail' ? { reason: 'proof' } : undefined);
      // A job that a worker already finished cannot be ended again: its own end event replaces this one.
      assert.ok(ended.status === 200 || ended.status === 409, JSON.stringify(ended.body));
    }
    await waitFor('the crawl to finish', async () => (await api(base, 'GET', `/jobs/${jobIds[0]}`)).body.status === 'done');
    const test = await api(base, 'POST', `/webhooks/${hookId}/test`);
    assert.equal(test.status, 202);

    const events = await waitFor('five events in the outbox, each attempted and refused', async () => {
      const list = await deliveries(base, hookId);
      return list.length === 5 && list.every((d) => (receiver.attempts.get(d.eventId) ?? 0) >= 1) ? list : undefined;
    });
    assert.equal(receiver.acknowledged.size, 0);
    const typeOf: Record<string, string> = { done: 'job.completed', failed: 'job.failed', cancelled: 'job.cancelled' };
    const expected = ['webhook.test'];
    for (const id of jobIds) expected.push(typeOf[(await api(base, 'GET', `/jobs/${id}`)).body.status as string]!);
    assert.deepEqual(events.map((d) => d.eventType).sort(), expected.sort(), 'one event per job end and the test event');

    for (const p of procs) await p.stop('SIGKILL');
    const attemptsAtKill = new Map(receiver.attempts);
    receiver.failFirst = Math.max(...attemptsAtKill.values()) + 1;
    procs = await start();
    const after = procs[0]!.url;

    const final = await waitFor('every event delivered after the restart', async () => {
      const list = await deliveries(after, hookId);
      return list.every((d) => d.status === 'delivered') ? list : undefined;
    }, 900);
    assert.deepEqual(receiver.rejected, [], 'every request carried a valid signature');
    for (const d of final) {
      assert.equal(receiver.acknowledged.get(d.eventId), 1, `${d.eventType} ${d.eventId} acknowledged exactly once`);
      assert.ok((receiver.attempts.get(d.eventId) ?? 0) > (attemptsAtKill.get(d.eventId) ?? 0), `${d.eventId} was attempted again after the restart`);
      // An attempt counts when it is leased: one the kill cut short before it left is counted and never seen.
      const seen = receiver.attempts.get(d.eventId) ?? 0;
      assert.ok(d.attempts >= seen && d.attempts <= seen + 1, `the store counted ${d.attempts} attempts, the receiver saw ${seen}`);
    }
    assert.deepEqual([...receiver.acknowledged.keys()].sort(), final.map((d) => d.eventId).sort(), 'nothing else arrived');
    const byType = new Map(receiver.events.map((e) => [`${e.type} ${String(e.data.jobId)}`, e.data]));
    assert.deepEqual(byType.get(`job.completed ${jobIds[0]}`)?.status, 'done');
    assert.ok(receiver.events.some((e) => e.type === 'webhook.test' && e.data.webhookId === hookId));
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  }
}

describe('webhooks survive SIGKILL: every event delivered, verified, exactly once per webhook-id', () => {
  let site: FixtureSite;
  let receiver: Receiver;
  before(async () => {
    site = await startFixtureSite({ pages: { '/': { body: '<html><head><title>home</title></head><body><a href="/a">a</a></body></html>' }, '/a': { body: '<html><body>a</body></html>' } } });
  });
  after(async () => {
    await site?.close();
  });

  it('owl serve on SQLite', { timeout: 120_000 }, async () => {
    receiver = await startReceiver(SECRET);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'owl-webhooks-'));
    try {
      await proveOutbox(async () => [await startApi({ ...SENDER_ENV, OWL_DATA_DIR: dataDir })], site, receiver);
    } finally {
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('owl serve and owl worker on PostgreSQL (two senders)', { timeout: 120_000 }, async () => {
    receiver = await startReceiver(SECRET);
    const schema: TestSchema = await createTestSchema();
    try {
      const env = { ...SENDER_ENV, DATABASE_URL: schema.url() };
      await proveOutbox(async () => {
        const serve = await startApi(env);
        return [serve, await startWorker(env)];
      }, site, receiver);
    } finally {
      await receiver.close();
      await schema.drop();
    }
  });
});
