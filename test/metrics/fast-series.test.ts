import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { counterSeries, histogramSeries } from '../../src/metrics/fast-series.ts';

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
        observe(v);
        count();
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
});
