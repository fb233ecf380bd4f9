import type { Page, PageListOptions, PageStore, PageWithContent, ProxyHealth, ProxyHealthStore, RecentPage } from '../types.ts';
import { countsByCode, readRecent, type RecentRow } from '../rows.ts';
import type { SqliteCore } from './core.ts';
import { toPage, toPageWithContent, toProxyHealth, type PageContentRow, type PageRow, type ProxyRow } from './rows.ts';

/** Rows read per step of an export. */
const EXPORT_BATCH = 200;

export class SqlitePages implements PageStore {
  constructor(private readonly core: SqliteCore) {}

  list(jobId: string, opts: PageListOptions): Promise<Page[]> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const after = opts.after === undefined ? 0 : Number(opts.after);
      const s = this.core.s;
      const statement = opts.outcome === 'ok' ? s.listOkPages : opts.outcome === 'failed' ? s.listFailedPages : s.listPages;
      return (statement.all(jobId, after, opts.limit) as PageRow[]).map((row) => toPage(row, jobId));
    });
  }

  failuresByCode(jobId: string): Promise<Record<string, number>> {
    return this.core.run(() => {
      this.core.commitWaiting();
      return countsByCode(this.core.s.failuresByCode.all(jobId) as Array<{ code: string; n: number }>);
    });
  }

  recent(since: number, limit: number, keyId?: string): Promise<RecentPage[]> {
    return readRecent((before, n) => this.core.run(() => {
      this.core.commitWaiting();
      if (keyId === undefined) return this.core.s.recentPages.all(before, n) as RecentRow[];
      return this.core.s.recentPagesOfKey.all(keyId, since, before, n) as RecentRow[];
    }), since, limit);
  }

  get(jobId: string, pageId: number): Promise<PageWithContent | undefined> {
    return this.core.run(() => {
      this.core.commitWaiting();
      const row = this.core.s.getPage.get(jobId, pageId) as PageContentRow | undefined;
      return row && toPageWithContent(row, jobId);
    });
  }

  async *iterate(jobId: string, opts: { batch?: number; after?: number } = {}): AsyncIterable<PageWithContent> {
    const batch = opts.batch ?? EXPORT_BATCH;
    let after = opts.after ?? 0;
    for (;;) {
      // One short read per batch: the group commit and the crawl go on between them.
      const rows = await this.core.run(() => {
        this.core.commitWaiting();
        return this.core.s.pagesWithContent.all(jobId, after, batch) as PageContentRow[];
      });
      for (const row of rows) yield toPageWithContent(row, jobId);
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  dropContentBefore(cutoff: number): Promise<number> {
    return this.core.run(() => this.core.s.dropContentBefore.run(cutoff).changes);
  }
}

export class SqliteProxies implements ProxyHealthStore {
  constructor(private readonly core: SqliteCore) {}

  record(h: ProxyHealth): Promise<void> {
    return this.core.run(() => {
      this.core.s.upsertProxy.run(h.proxy, h.failures, h.cooldownUntil, h.lastError);
    });
  }

  list(): Promise<ProxyHealth[]> {
    return this.core.run(() => (this.core.s.listProxies.all() as ProxyRow[]).map(toProxyHealth));
  }
}
