import type { Counter, Histogram } from 'prom-client';

/**
 * Direct handles on one labelled series of a prom-client counter or histogram, for hot paths
 * (the API's per-request metrics, the crawl's per-page ones: src/worker/page-series.ts).
 * prom-client re-validates and re-hashes the labels on every `observe`/`inc`, even through
 * `labels(...)` children: measured here at about 4 µs of a 120 µs request. A handle does that once and then updates the series' own record — the same object
 * prom-client serialises — so the exposition is unchanged (test/metrics/fast-series.test.ts
 * compares it with the standard calls). A `reset()` of the metric replaces its records; handles
 * notice that and re-attach.
 */
interface SeriesStore<T> {
  hashMap: Record<string, T>;
}
interface HistogramRecord {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}
interface CounterRecord {
  labels: Record<string, string>;
  value: number;
}

/** What to do when prom-client's internals no longer look like this file expects. */
export const INTERNALS_CHANGED =
  "prom-client's internals changed (src/metrics/fast-series.ts reads each metric's `hashMap` of series records, which " +
  'prom-client 16 removes): keep prom-client pinned to ~15.1 in package.json, or rewrite fast-series.ts for the new ' +
  'internals and run test/metrics/fast-series.test.ts before widening the pin';

function internals<T>(metric: unknown): SeriesStore<T> {
  const store = metric as SeriesStore<T>;
  if (typeof store.hashMap !== 'object' || store.hashMap === null) throw new Error(INTERNALS_CHANGED);
  return store;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => String(a[k]) === String(b[k]));
}

/**
 * The series' record, created by `create` when the metric has none yet. A record made earlier
 * (a standard `inc`/`observe` with these labels, another handle) is the one to continue, found
 * by its label values: creating it again would reset a histogram's counts.
 */
function recordOf<T extends { labels: Record<string, string> }>(store: SeriesStore<T>, labels: Record<string, string>, create: () => void): T {
  const find = () => Object.values(internals<T>(store).hashMap).find((r) => sameLabels(r.labels, labels));
  let found = find();
  if (!found) {
    create();
    found = find();
  }
  if (!found) throw new Error(INTERNALS_CHANGED);
  return found;
}

export function histogramSeries(histogram: Histogram, labels: Record<string, string>): (value: number) => void {
  const h = internals<HistogramRecord>(histogram) as SeriesStore<HistogramRecord> & { upperBounds: number[] };
  const bounds = h.upperBounds;
  let map: unknown = null;
  let record!: HistogramRecord;
  return (value: number) => {
    if (map !== h.hashMap) {
      record = recordOf(h, labels, () => histogram.zero(labels));
      map = h.hashMap;
    }
    record.sum += value;
    record.count += 1;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        record.bucketValues[bounds[i]!]! += 1;
        return;
      }
    }
  };
}

/** `amount`: a finite number ≥ 0 (the callers count events and bytes), 1 when left out. */
export function counterSeries(counter: Counter, labels: Record<string, string>): (amount?: number) => void {
  const c = internals<CounterRecord>(counter);
  let map: unknown = null;
  let record!: CounterRecord;
  return (amount = 1) => {
    if (map !== c.hashMap) {
      record = recordOf(c, labels, () => counter.inc(labels, 0));
      map = c.hashMap;
    }
    record.value += amount;
  };
}
