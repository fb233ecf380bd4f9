import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Outcome } from '../../src/store/types.ts';
import { JobContexts } from '../../src/worker/job-contexts.ts';
import { JOB_DEFAULTS } from './helpers.ts';
import { claim, settle } from '../store/frontier-calls.ts';

describe('an outcome refused as stale', () => {
  it('gives back the links it offered, so the page fetched again offers them again', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const job = await store.jobs.create({ seeds: ['http://a.test/'], source: 'test', options: JOB_DEFAULTS });
    const [entry] = await claim(store, { workerId: 'w', limit: 1, leaseMs: 1_000, maxPerHost: 1, hostDelayMs: 0 });
    assert.ok(entry);
    const jobs = new JobContexts(store.jobs);
    const ctx = await jobs.get(job.id);
    assert.equal(JobContexts.firstOffer(ctx, 'http://a.test/next'), true);
    // The lease expires (a store outage, a stalled worker) and the URL goes back to the queue.
    assert.equal(await store.frontier.requeueExpired(Date.now() + 60_000), 1);

    const outcome: Outcome = {
      kind: 'done',
      entry,
      discovered: [{ url: 'http://a.test/next', host: 'a.test', depth: 1 }],
      page: { url: entry.url, finalUrl: entry.url, statusCode: 200, title: null, bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 1, depth: 0, fetchedAt: Date.now(), contentHash: null, lastmod: null, content: null },
    };
    const refused: Outcome[] = [];
    const onRefused = (o: Outcome) => {
      refused.push(o);
      if (o.kind === 'done') jobs.withdraw(o.entry.jobId, o.discovered.map((d) => d.url));
    };
    // What the worker loop does with a settle's result (src/worker/crawler.ts, track()).
    const result = await settle(store, [outcome]);
    result.accepted.forEach((accepted, i) => {
      if (!accepted) onRefused([outcome][i]!);
    });
    await new Promise((r) => setImmediate(r));

    assert.equal(refused.length, 1);
    assert.equal((await store.jobs.get(job.id))!.counts.admitted, 1, 'the refused outcome admitted nothing');
    assert.equal(JobContexts.firstOffer(ctx, 'http://a.test/next'), true, 'the link can be offered again');
    await store.close();
  });
});
