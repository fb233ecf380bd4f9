import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { commitFailureReporter } from '../../src/bin/process-state.ts';
import { createApiProcessMetrics, createEmbeddedMetrics, createWorkerProcessMetrics, type GaugeSources } from '../../src/metrics/registry.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { PageRecord } from '../../src/store/types.ts';
import { claim, settle } from '../store/frontier-calls.ts';

const sqlite: GaugeSources = { store: () => ({ backend: 'sqlite', up: true }) };

describe('store_commit_failures_total', () => {
  it('is served at 0 for the store\'s backend from the first scrape, and counts what the store reports', async () => {
    const metrics = createEmbeddedMetrics(sqlite);
    assert.match(await metrics.registry.metrics(), /^store_commit_failures_total\{backend="sqlite"\} 0$/m);
    metrics.storeCommitFailures.inc({ backend: 'sqlite' });
    metrics.storeCommitFailures.inc({ backend: 'sqlite' });
    const text = await metrics.registry.metrics();
    assert.match(text, /^store_commit_failures_total\{backend="sqlite"\} 2$/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  });

  it('exists in every process that owns a store: owl serve (both modes) and owl worker', async () => {
    const pg: GaugeSources = { store: () => ({ backend: 'postgres', up: true }) };
    for (const metrics of [createApiProcessMetrics(pg), createWorkerProcessMetrics(pg)]) {
      assert.match(await metrics.registry.metrics(), /^store_commit_failures_total\{backend="postgres"\} 0$/m);
    }
  });

  it('has no series before a failure when the process reports no store (owl crawl)', async () => {
    const metrics = createEmbeddedMetrics();
    assert.doesNotMatch(await metrics.registry.metrics(), /^store_commit_failures_total\{/m);
    metrics.storeCommitFailures.inc({ backend: 'sqlite' });
    assert.match(await metrics.registry.metrics(), /^store_commit_failures_total\{backend="sqlite"\} 1$/m);
  });

  it('a real failed group commit is logged as "store commit failed" and counted once per failed attempt', async () => {
    const lines: Array<{ msg: string; backend?: string; err?: { message: string } }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const reporter = commitFailureReporter(pino({ level: 'error' }, sink));
    const metrics = createEmbeddedMetrics(sqlite);
    reporter.attach(metrics.storeCommitFailures);
    const store = openSqliteStore({ path: ':memory:', groupCommitMs: 5, onCommitFailure: reporter.onCommitFailure });
    await store.migrate();
    await store.jobs.create({ seeds: ['http://a.test/1', 'http://a.test/2'], source: 'test', options: { maxPages: 10, maxDepth: 1, scope: 'host', mode: 'http', respectRobots: true, allowPrivate: true } });
    const [entry] = await claim(store, { workerId: 'w', limit: 1, leaseMs: 60_000, maxPerHost: 1, hostDelayMs: 0 });
    // A page that cannot be written twice, as a full disk would refuse it; the third commit succeeds.
    let refusals = 2;
    const page = { url: entry!.url, finalUrl: entry!.url, statusCode: 200, bytes: 1, fetchMs: 1, errorCode: null, contentType: 'text/html', mode: 'http', linksFound: 0, depth: 0, fetchedAt: 1, contentHash: null, lastmod: null, content: null } as PageRecord;
    Object.defineProperty(page, 'title', {
      enumerable: true,
      get: () => {
        if (refusals-- > 0) throw new Error('disk full');
        return 't';
      },
    });
    const settled = await settle(store, [{ kind: 'done', entry: entry!, page, discovered: [] }]);
    assert.deepEqual(settled.accepted, [true]);
    assert.match(await metrics.registry.metrics(), /^store_commit_failures_total\{backend="sqlite"\} 2$/m);
    assert.equal(lines.length, 2);
    assert.deepEqual(lines.map((l) => [l.msg, l.backend, l.err?.message]), [['store commit failed', 'sqlite', 'disk full'], ['store commit failed', 'sqlite', 'disk full']]);
    await store.close();
  });
});
