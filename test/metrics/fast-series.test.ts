import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { counterSeries, histogramSeries, INTERNALS_CHANGED } from '../../src/metrics/fast-series.ts';

function pair() {
  const make = () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['route', 'status_code'], buckets: [0.01, 0.1, 1], registers: [registry] });
    const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['route', 'status_code'], registers: [registry] });
    return { registry, histogram, counter };
  };
  return { standard: make(), fast: make() };
}

describe('fast series handles', () => {
  it('run on the prom-client they were written against (pinned ~15.1), whose series records they can find', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const installed = (createRequire(import.meta.url)('prom-client/package.json') as { version: string }).version;
    assert.match(pkg.dependencies['prom-client'] ?? '', /^~15\.1\./, INTERNALS_CHANGED);
    assert.match(installed, /^15\.1\./, `prom-client ${installed} is installed. ${INTERNALS_CHANGED}`);
    const { fast } = pair();
    assert.equal(typeof (fast.histogram as unknown as { hashMap: unknown }).hashMap, 'object', INTERNALS_CHANGED);
    assert.doesNotThrow(() => histogramSeries(fast.histogram, { route: '/', status_code: '200' })(1));
  });

  it('fail with a message that says what to do when the internals are gone', () => {
    const { fast } = pair();
    const broken = Object.assign(Object.create(Object.getPrototypeOf(fast.counter)), fast.counter, { hashMap: undefined });
    assert.throws(() => counterSeries(broken, { route: '/', status_code: '200' }), (e: Error) => e.message === INTERNALS_CHANGED);
  });

  it('expose exactly what the standard prom-client calls expose', async () => {
    const { standard, fast } = pair();
    const values = [0.005, 0.01, 0.05, 0.5, 2, 0.1, 0];
    for (const [route, status] of [['/jobs/:id', '200'], ['/jobs', '201']] as const) {
      const labels = { route, status_code: status };
      const observe = histogramSeries(fast.histogram, labels);
      const count = counterSeries(fast.counter, labels);
      for (const v of values) {
        standard.histogram.observe(labels, v);
        standard.counter.inc(labels);
        standard.counter.inc(labels, v * 1000);
        observe(v);
        count();
        count(v * 1000);
      }
    }
    assert.equal(await fast.registry.metrics(), await standard.registry.metrics());
  });

  it('re-attach after the metric is reset', async () => {
    const { standard, fast } = pair();
    const labels = { route: '/x', status_code: '200' };
    const observe = histogramSeries(fast.histogram, labels);
    const count = counterSeries(fast.counter, labels);
    observe(0.2);
    count();
    fast.histogram.reset();
    fast.counter.reset();
    observe(0.02);
    count();
    standard.histogram.observe(labels, 0.02);
    standard.counter.inc(labels);
    assert.equal(await fast.registry.metrics(), await standard.registry.metrics());
  });

  it('continue a series that standard calls or another handle started, without resetting it', async () => {
    const { standard, fast } = pair();
    const labels = { route: '/jobs', status_code: '200' };
    for (const side of [standard, fast]) {
      side.histogram.observe({ ...labels }, 0.05);
      side.counter.inc({ ...labels }, 2);
    }
    // Handles made after the series exists (with equal label objects, not the same ones), twice.
    for (let i = 0; i < 2; i++) {
      standard.histogram.observe(labels, 0.5);
      standard.counter.inc(labels);
      histogramSeries(fast.histogram, { ...labels })(0.5);
      counterSeries(fast.counter, { ...labels })();
    }
    assert.equal(await fast.registry.metrics(), await standard.registry.metrics());
  });
});
