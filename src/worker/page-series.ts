import { counterSeries, histogramSeries } from '../metrics/fast-series.ts';
import type { CrawlMetrics } from '../metrics/registry.ts';

/** One site's series on the page path. */
export interface SiteSeries {
  latency: (seconds: number) => void;
  bytes: (n: number) => void;
  fetched: () => void;
  stored: (n: number) => void;
}

type PageMetrics = Pick<CrawlMetrics, 'scrapeLatency' | 'pageBytes' | 'pagesFetched' | 'contentStoredBytes' | 'documentsFetched'>;

/**
 * The per-page series of the crawl as fast-series handles (src/metrics/fast-series.ts), made on a
 * site's (or a document kind's) first page: prom-client re-validates and re-hashes the labels on
 * every call, five times a page. Both label sets are bounded: sites by src/metrics/site-label.ts
 * (500 and `other`), kinds by the document kinds.
 */
export class PageSeries {
  private readonly bySite = new Map<string, SiteSeries>();
  private readonly byKind = new Map<string, () => void>();

  constructor(private readonly metrics: PageMetrics) {}

  site(site: string): SiteSeries {
    let series = this.bySite.get(site);
    if (series === undefined) {
      const labels = { site };
      const { scrapeLatency, pageBytes, pagesFetched, contentStoredBytes } = this.metrics;
      series = { latency: histogramSeries(scrapeLatency, labels), bytes: counterSeries(pageBytes, labels), fetched: counterSeries(pagesFetched, labels), stored: counterSeries(contentStoredBytes, labels) };
      this.bySite.set(site, series);
    }
    return series;
  }

  document(kind: string): void {
    let count = this.byKind.get(kind);
    if (count === undefined) {
      count = counterSeries(this.metrics.documentsFetched, { kind });
      this.byKind.set(kind, count);
    }
    count();
  }
}
