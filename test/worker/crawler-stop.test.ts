/**
 * Crawler.stop() when fetches do not finish within the drain timeout: they are aborted, nothing
 * is settled for them, and their URLs are back in the queue for the next worker.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { FrontierEntry, Outcome } from '../../src/store/types.ts';
import { Crawler } from '../../src/worker/crawler.ts';
import type { PageProcessor } from '../../src/worker/page-processor.ts';
import { claim } from '../store/frontier-calls.ts';
import { JOB_DEFAULTS } from './helpers.ts';

describe('Crawler.stop', () => {
  it('aborts fetches still running after the drain timeout and returns their URLs to the queue', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const job = await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], source: 'test', options: JOB_DEFAULTS });
    const started: string[] = [];
    const aborted: string[] = [];
    let bothStarted!: () => void;
    const running = new Promise<void>((resolve) => (bothStarted = resolve));
    // A fetch that never ends by itself: it answers only to the stop signal, like a stalled server.
    const processor = {
      process(entry: FrontierEntry, signal: AbortSignal): Promise<Outcome | null> {
        started.push(entry.url);
        if (started.length === 2) bothStarted();
        return new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted.push(entry.url);
            resolve(null);
          }, { once: true });
        });
      },
    } as unknown as PageProcessor;
    const crawler = new Crawler({
      frontier: store.frontier,
      processor,
      logger: silentLogger(),
      workerId: 'stopper',
      concurrency: 4,
      leaseMs: 60_000,
      maxPerHost: 4,
      hostDelayMs: 0,
      modes: ['http'],
      drainTimeoutMs: 50,
    });
    crawler.start();
    await running;
    assert.equal(crawler.active, 2);
    await crawler.stop();
    assert.deepEqual(aborted.sort(), ['http://a.test/1', 'http://a.test/2']);
    assert.equal(crawler.active, 0);
    const after = await store.jobs.get(job.id);
    assert.deepEqual(after?.counts, { admitted: 2, queued: 2, inFlight: 0, fetched: 0, failed: 0, sitemaps: 0 }, 'nothing settled, both waiting again');
    assert.deepEqual((await claim(store, { workerId: 'next', limit: 10, leaseMs: 1_000, maxPerHost: 10, hostDelayMs: 0 })).map((e) => e.attempts), [0, 0]);
    await store.close();
  });
});
