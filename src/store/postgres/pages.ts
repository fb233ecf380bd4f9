import type { Page, PageListOptions, PageStore, PageWithContent, ProxyHealth, ProxyHealthStore, RecentPage } from '../types.ts';
import { countsByCode, readRecent, type RecentRow } from '../rows.ts';
import type { Db } from './db.ts';
import { isUuid, toPage, toPageWithContent, toProxyHealth, type PageContentRow, type PageRow, type ProxyRow } from './rows.ts';

const PAGE_COLUMNS = `id, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth, fetched_at,
  content_hash, lastmod, change, previous_page_id`;
/** Rows read per step of an export. */
const EXPORT_BATCH = 200;

export class PgPages implements PageStore {
  constructor(private readonly db: Db) {}

  async list(jobId: string, opts: PageListOptions): Promise<Page[]> {
    if (!isUuid(jobId)) return [];
    const after = opts.after === undefined ? 0 : Number(opts.after);
    const outcome = opts.outcome === 'ok' ? ' AND error_code IS NULL' : opts.outcome === 'failed' ? ' AND error_code IS NOT NULL' : '';
    const rows = await this.db.query<PageRow>(
      `SELECT ${PAGE_COLUMNS} FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = $1) AND id > $2${outcome} ORDER BY id LIMIT $3`,
      [jobId, after, opts.limit],
    );
    return rows.map((r) => toPage(r, jobId));
  }

  async failuresByCode(jobId: string): Promise<Record<string, number>> {
    if (!isUuid(jobId)) return {};
    return countsByCode(await this.db.query<{ code: string; n: number }>(
      `SELECT error_code AS code, count(*)::int AS n FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = $1)
        AND error_code IS NOT NULL GROUP BY error_code ORDER BY error_code`,
      [jobId],
    ));
  }

  recent(since: number, limit: number, keyId?: string): Promise<RecentPage[]> {
    if (keyId !== undefined && !isUuid(keyId)) return Promise.resolve([]);
    return readRecent((before, n) => keyId === undefined
      ? this.db.query<RecentRow>(
        'SELECT id, url, status_code, error_code, fetch_ms, fetched_at FROM pages WHERE id < $1 ORDER BY id DESC LIMIT $2',
        [before, n],
      )
      : this.db.query<RecentRow>(
        `SELECT id, url, status_code, error_code, fetch_ms, fetched_at FROM pages
          WHERE job_seq IN (SELECT seq FROM jobs WHERE key_id = $1 AND (finished_at IS NULL OR finished_at >= $2)) AND id < $3 ORDER BY id DESC LIMIT $4`,
        [keyId, since, before, n],
      ), since, limit);
  }

  async get(jobId: string, pageId: number): Promise<PageWithContent | undefined> {
    if (!isUuid(jobId)) return undefined;
    const [row] = await this.db.query<PageContentRow>(
      `SELECT ${PAGE_COLUMNS}, content FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = $1) AND id = $2`,
      [jobId, pageId],
    );
    return row && toPageWithContent(row, jobId);
  }

  async *iterate(jobId: string, opts: { batch?: number; after?: number } = {}): AsyncIterable<PageWithContent> {
    if (!isUuid(jobId)) return;
    const batch = opts.batch ?? EXPORT_BATCH;
    let after = opts.after ?? 0;
    for (;;) {
      const rows = await this.db.query<PageContentRow>(
        `SELECT ${PAGE_COLUMNS}, content FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = $1) AND id > $2 ORDER BY id LIMIT $3`,
        [jobId, after, batch],
      );
      for (const row of rows) yield toPageWithContent(row, jobId);
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async dropContentBefore(cutoff: number): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      'WITH d AS (UPDATE pages SET content = NULL WHERE fetched_at < $1 AND content IS NOT NULL RETURNING 1) SELECT count(*)::int AS n FROM d',
      [cutoff],
    );
    return rows[0]?.n ?? 0;
  }
}

export class PgProxies implements ProxyHealthStore {
  constructor(private readonly db: Db) {}

  async record(h: ProxyHealth): Promise<void> {
    await this.db.query(
      `INSERT INTO proxy_health (proxy, failures, cooldown_until, last_error) VALUES ($1, $2, $3, $4)
       ON CONFLICT (proxy) DO UPDATE SET failures = excluded.failures, cooldown_until = excluded.cooldown_until, last_error = excluded.last_error`,
      [h.proxy, h.failures, h.cooldownUntil, h.lastError],
    );
  }

  async list(): Promise<ProxyHealth[]> {
    return (await this.db.query<ProxyRow>('SELECT proxy, failures, cooldown_until, last_error FROM proxy_health ORDER BY proxy')).map(toProxyHealth);
  }
}
