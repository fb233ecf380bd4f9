import type Database from 'better-sqlite3';
import { FrontierKind as K, FrontierState as S } from '../frontier-state.ts';

/** Every statement the SQLite store runs, prepared once per connection (after migrations). */
export function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  /** Counters and facts of a job, without its seed list (hot paths read and rewrite this row). */
  const COUNTED = `seq, id, status, max_pages, max_depth, reason, started_at, finished_at, admitted, queued, in_flight, fetched, failed, sitemaps`;
  const PAGE_COLUMNS = `id, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth,
    fetched_at, content_hash, lastmod, change, previous_page_id`;
  const JOB_COLUMNS = `seq, id, status, mode, max_pages, max_depth, (SELECT seeds FROM job_seeds WHERE job_seq = seq) AS seeds, options,
    source, created_at, started_at, finished_at, reason, admitted, queued, in_flight, fetched, failed, sitemaps, key_id`;
  const WEBHOOK_COLUMNS = 'id, url, events, key_id, created_at';
  const DELIVERY_COLUMNS = `d.id, (SELECT w.id FROM webhooks w WHERE w.seq = d.webhook_seq) AS webhook_id, d.event_id, d.event_type, d.status,
    d.attempts, d.next_attempt_at, d.last_error, d.last_status_code, d.created_at, d.finished_at`;
  return {
    insertJob: p(`INSERT INTO jobs (id, status, mode, max_pages, max_depth, options, source, created_at, key_id)
      VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)`),
    listJobsOfKey: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE key_id = @key AND (@status IS NULL OR status = @status)
      AND (@after IS NULL OR seq < (SELECT seq FROM jobs WHERE id = @after)) ORDER BY seq DESC LIMIT @limit`),
    liveJobsOfKey: p(`SELECT count(*) FROM jobs WHERE key_id = ? AND status IN ('queued', 'running')`).pluck(),
    // Jobs that ended before `since` fetched nothing since: only the pages of the others are counted.
    pagesOfKeySince: p(`SELECT count(*) FROM pages WHERE fetched_at >= @since AND job_seq IN
      (SELECT seq FROM jobs WHERE key_id = @key AND (finished_at IS NULL OR finished_at >= @since))`).pluck(),
    insertSeeds: p('INSERT INTO job_seeds (job_seq, seeds) VALUES (?, ?)'),
    countedJob: p(`SELECT ${COUNTED} FROM jobs WHERE seq = ?`),
    jobById: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`),
    jobBySeq: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq = ?`),
    scheduleOfJob: p(`SELECT json_extract(options, '$.schedule.id') FROM jobs WHERE id = ?`).pluck(),
    jobInfo: p('SELECT id, options, mode, status FROM jobs WHERE seq = ?'),
    listJobs: p(`SELECT ${JOB_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT ?`),
    listJobsAfter: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq < (SELECT seq FROM jobs WHERE id = ?) ORDER BY seq DESC LIMIT ?`),
    listJobsByStatus: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY seq DESC LIMIT ?`),
    listJobsByStatusAfter: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? AND seq < (SELECT seq FROM jobs WHERE id = ?)
      ORDER BY seq DESC LIMIT ?`),
    writeJobCounts: p(`UPDATE jobs SET admitted = ?, queued = ?, in_flight = ?, fetched = ?, failed = ?, sitemaps = ?, status = ?,
      reason = ?, started_at = ?, finished_at = ? WHERE seq = ?`),
    addJobCounts: p('UPDATE jobs SET admitted = admitted + ?, queued = queued + ?, sitemaps = sitemaps + ? WHERE seq = ?'),
    endJob: p('UPDATE jobs SET status = ?, reason = ?, finished_at = ?, queued = 0 WHERE seq = ?'),
    failureReason: p(`SELECT error_code FROM pages WHERE job_seq = ? AND error_code IS NOT NULL
      GROUP BY error_code ORDER BY count(*) DESC, error_code ASC LIMIT 1`).pluck(),
    stats: p(`SELECT count(*) AS jobs, coalesce(sum(queued), 0) AS depth FROM jobs WHERE status IN ('queued', 'running')`),

    insertEntry: p(`INSERT INTO frontier (job_seq, url, host, depth, kind, lastmod) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (job_seq, url) DO NOTHING`),
    /** Waiting entries of live jobs in (host, id) order: what the in-memory frontier starts from. */
    allWaiting: p(`SELECT f.id, f.job_seq AS jobSeq, f.url, f.host, f.depth, f.attempts, f.not_before AS notBefore, f.kind, f.lastmod
      FROM frontier f
      WHERE f.state = ${S.waiting} AND (SELECT j.status FROM jobs j WHERE j.seq = f.job_seq) IN ('queued', 'running') ORDER BY f.host, f.id`),
    /** The next waiting entries of a host after a given id (a spilled host's next window: none of them was read before). */
    waitingAfter: p(`SELECT id, job_seq AS jobSeq, url, host, depth, attempts, not_before AS notBefore, kind, lastmod FROM frontier
      WHERE host = ? AND id > ? AND state = ${S.waiting} ORDER BY id LIMIT ?`),
    /** No lease outlives its process: at start, what was in flight waits again (live jobs) or is forgotten. */
    unleaseLiveJobs: p(`UPDATE jobs SET queued = queued + in_flight, in_flight = 0 WHERE in_flight <> 0 AND status IN ('queued', 'running')`),
    unleaseEndedJobs: p('UPDATE jobs SET in_flight = 0 WHERE in_flight <> 0'),
    drop: p(`UPDATE frontier SET state = ${S.dropped} WHERE id = ?`),
    markDone: p(`UPDATE frontier SET state = ${S.done} WHERE id = ?`),
    markFailed: p(`UPDATE frontier SET state = ${S.failed}, attempts = attempts + 1, last_error = ? WHERE id = ?`),
    markRetry: p('UPDATE frontier SET attempts = attempts + 1, not_before = ?, last_error = ? WHERE id = ?'),
    countSitemaps: p(`SELECT count(*) FROM frontier WHERE job_seq = ? AND kind = ${K.sitemap}`).pluck(),
    hostsOfWaiting: p(`SELECT DISTINCT host FROM frontier WHERE job_seq = ? AND state = ${S.waiting}`).pluck(),
    dropWaiting: p(`UPDATE frontier SET state = ${S.dropped} WHERE job_seq = ? AND state = ${S.waiting}`),

    insertPage: p(`INSERT INTO pages (job_seq, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode,
      links_found, depth, fetched_at, content_hash, lastmod, content, change, previous_page_id, revisit)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    listPages: p(`SELECT ${PAGE_COLUMNS} FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id > ? ORDER BY id LIMIT ?`),
    listOkPages: p(`SELECT ${PAGE_COLUMNS} FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id > ? AND error_code IS NULL
      ORDER BY id LIMIT ?`),
    listFailedPages: p(`SELECT ${PAGE_COLUMNS} FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id > ?
      AND error_code IS NOT NULL ORDER BY id LIMIT ?`),
    failuresByCode: p(`SELECT error_code AS code, count(*) AS n FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?)
      AND error_code IS NOT NULL GROUP BY error_code ORDER BY error_code`),
    recentPages: p(`SELECT id, url, status_code, error_code, fetch_ms, fetched_at FROM pages WHERE id < ? ORDER BY id DESC LIMIT ?`),
    recentPagesOfKey: p(`SELECT id, url, status_code, error_code, fetch_ms, fetched_at FROM pages
      WHERE job_seq IN (SELECT seq FROM jobs WHERE key_id = ? AND (finished_at IS NULL OR finished_at >= ?)) AND id < ? ORDER BY id DESC LIMIT ?`),
    getPage: p(`SELECT ${PAGE_COLUMNS}, content FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id = ?`),
    pagesWithContent: p(`SELECT ${PAGE_COLUMNS}, content FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id > ?
      ORDER BY id LIMIT ?`),
    dropContentBefore: p('UPDATE pages SET content = NULL WHERE fetched_at < ? AND content IS NOT NULL'),
    deleteJobPages: p('DELETE FROM pages WHERE job_seq = ?'),
    deleteJobFrontier: p('DELETE FROM frontier WHERE job_seq = ?'),
    deleteJobSeeds: p('DELETE FROM job_seeds WHERE job_seq = ?'),
    deleteJob: p('DELETE FROM jobs WHERE seq = ?'),

    upsertProxy: p(`INSERT INTO proxy_health (proxy, failures, cooldown_until, last_error) VALUES (?, ?, ?, ?)
      ON CONFLICT (proxy) DO UPDATE SET failures = excluded.failures, cooldown_until = excluded.cooldown_until,
        last_error = excluded.last_error`),
    listProxies: p('SELECT proxy, failures, cooldown_until, last_error FROM proxy_health ORDER BY proxy'),

    insertWebhook: p('INSERT INTO webhooks (id, url, events, secret, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    webhookById: p(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`),
    webhookBySeq: p('SELECT id, url, secret FROM webhooks WHERE seq = ?'),
    listWebhooks: p(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE seq > coalesce((SELECT seq FROM webhooks WHERE id = ?), 0) ORDER BY seq LIMIT ?`),
    deleteWebhook: p('DELETE FROM webhooks WHERE id = ?'),
    /** An event for every webhook subscribed to its type. */
    publishToSubscribers: p(`INSERT INTO webhook_deliveries (webhook_seq, event_id, event_type, payload, status, next_attempt_at, created_at)
      SELECT w.seq, ?, ?, ?, 'pending', ?, ? FROM webhooks w WHERE EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = ?)`),
    publishToWebhook: p(`INSERT INTO webhook_deliveries (webhook_seq, event_id, event_type, payload, status, next_attempt_at, created_at)
      SELECT w.seq, ?, ?, ?, 'pending', ?, ? FROM webhooks w WHERE w.id = ?`),
    listDeliveries: p(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_seq = (SELECT seq FROM webhooks WHERE id = ?) AND d.id < ?
      ORDER BY d.id DESC LIMIT ?`),
    claimDeliveries: p(`UPDATE webhook_deliveries SET lease_token = ?, lease_until = ?, attempts = attempts + 1
      WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
        ORDER BY next_attempt_at, id LIMIT ?)
      RETURNING id, webhook_seq, event_id, event_type, payload, attempts, created_at`),
    completeDelivery: p(`UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, lease_token = NULL, lease_until = NULL,
      last_error = coalesce(?, last_error), last_status_code = ?, finished_at = ? WHERE id = ? AND lease_token = ? AND status = 'pending'`),
    dropFinishedDeliveries: p(`DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < ?`),
    outboxStats: p(`SELECT count(*) AS pending, min(created_at) AS oldest,
      count(DISTINCT CASE WHEN attempts - (CASE WHEN lease_until > ? THEN 1 ELSE 0 END) >= ? THEN webhook_seq END) AS failing
      FROM webhook_deliveries WHERE status = 'pending'`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
