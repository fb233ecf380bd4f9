/**
 * An export of 50,000 pages streams in constant memory: the server reads the store batch by batch
 * as the client takes the bytes, so its heap does not grow with the job (the file is ~60 MB).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { createApiMetrics } from '../../src/metrics/registry.ts';
import { encodeContent } from '../../src/scrape/content-codec.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Outcome, Store } from '../../src/store/types.ts';
import { claim, settle } from '../store/frontier-calls.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PAGES = 50_000;

describe('exports in constant memory', () => {
  let store: Store;
  let app: FastifyInstance;
  let jobId: string;
  let address: string;

  before(async () => {
    store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const seeds = Array.from({ length: PAGES }, (_, i) => `http://shop.test/products/${i}`);
    const job = await store.jobs.create({ seeds, source: 'test', options: { maxPages: PAGES, maxDepth: 0, scope: 'host', mode: 'http', respectRobots: false, allowPrivate: true } });
    jobId = job.id;
    // About 1 KB of record per page: a description that does not compress to nothing.
    const record = (i: number) => encodeContent({ contentType: 'text/html', kind: 'html', metadata: { title: `Product ${i}` }, markdown: `# Product ${i}\n\n${Array.from({ length: 40 }, (_, k) => (i * 7919 + k * 104729).toString(36)).join(' ')}`, data: { name: `Product ${i}`, price: i / 100 }, contentHash: String(i), truncated: [], extraction: null });
    for (let done = 0; done < PAGES; ) {
      const entries = await claim(store, { workerId: 'w', limit: 1000, leaseMs: 60_000, maxPerHost: 1000, hostDelayMs: 0 });
      const outcomes: Outcome[] = entries.map((entry, k) => ({
        kind: 'done',
        entry,
        discovered: [],
        page: { url: entry.url, finalUrl: entry.url, statusCode: 200, title: `Product ${done + k}`, bytes: 9000, fetchMs: 3, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 0, depth: 0, fetchedAt: Date.now(), contentHash: String(done + k), lastmod: null, content: record(done + k) },
      }));
      await settle(store, outcomes);
      done += entries.length;
    }
    const registry = new Registry();
    // Auth off: the app listens on loopback for this test only.
    app = await buildApp({ store, registry, metrics: createApiMetrics(registry), config: DEFAULTS, auth: { mode: 'off' } });
    address = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it('streams every page of a 50,000-page job as JSON Lines while the heap stays flat', { timeout: 300_000 }, async () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let bytes = 0;
    let lines = 0;
    let tail = '';
    const res = await fetch(`${address}/jobs/${jobId}/export?format=jsonl`);
    assert.equal(res.status, 200);
    const decoder = new TextDecoder();
    let chunks = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      const text = tail + decoder.decode(chunk, { stream: true });
      const parts = text.split('\n');
      tail = parts.pop()!;
      lines += parts.length;
      if (++chunks % 50 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    assert.equal(lines, PAGES);
    assert.ok(bytes > 25 * 1024 * 1024, `${(bytes / 1048576).toFixed(1)} MB exported`);
    const growth = (peak - before) / 1048576;
    console.log(`export: ${(bytes / 1048576).toFixed(1)} MB streamed, heap growth ${growth.toFixed(1)} MB`);
    assert.ok(growth < 16, `heap grew by ${growth.toFixed(1)} MB while ${(bytes / 1048576).toFixed(1)} MB streamed`);
  });
});
