import type Database from 'better-sqlite3';

/** Every statement the SQLite store runs, prepared once per connection (after migrations). */
export function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  /** Counters and facts of a job, without its seed list (hot paths read and rewrite this row). */
  const COUNTED = `seq, id, status, max_pages, max_depth, reason, finished_at, admitted, queued, in_flight, fetched, failed`;
  const JOB_COLUMNS = `seq, id, status, mode, max_pages, max_depth, (SELECT seeds FROM job_seeds WHERE job_seq = seq) AS seeds, options,
    source, created_at, started_at, finished_at, reason, admitted, queued, in_flight, fetched, failed`;
  return {
    insertJob: p(`INSERT INTO jobs (id, status, mode, max_pages, max_depth, options, source, created_at)
      VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)`),
    insertSeeds: p('INSERT INTO job_seeds (job_seq, seeds) VALUES (?, ?)'),
    countedJob: p(`SELECT ${COUNTED} FROM jobs WHERE seq = ?`),
    jobById: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`),
    jobBySeq: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq = ?`),
    jobInfo: p('SELECT id, options FROM jobs WHERE seq = ?'),
    jobStatus: p('SELECT status FROM jobs WHERE seq = ?').pluck(),
    listJobs: p(`SELECT ${JOB_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT ?`),
    listJobsAfter: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq < (SELECT seq FROM jobs WHERE id = ?) ORDER BY seq DESC LIMIT ?`),
    listJobsByStatus: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY seq DESC LIMIT ?`),
    listJobsByStatusAfter: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? AND seq < (SELECT seq FROM jobs WHERE id = ?)
      ORDER BY seq DESC LIMIT ?`),
    writeJobCounts: p(`UPDATE jobs SET admitted = ?, queued = ?, in_flight = ?, fetched = ?, failed = ?, status = ?, reason = ?,
      finished_at = ? WHERE seq = ?`),
    addJobCounts: p('UPDATE jobs SET admitted = admitted + ?, queued = queued + ? WHERE seq = ?'),
    moveJobCounts: p('UPDATE jobs SET queued = queued + ?, in_flight = in_flight + ? WHERE seq = ?'),
    startJob: p(`UPDATE jobs SET queued = queued - ?, in_flight = in_flight + ?,
      status = CASE status WHEN 'queued' THEN 'running' ELSE status END, started_at = coalesce(started_at, ?) WHERE seq = ?`),
    endJob: p('UPDATE jobs SET status = ?, reason = ?, finished_at = ?, queued = 0 WHERE seq = ?'),
    failureReason: p(`SELECT error_code FROM pages WHERE job_seq = ? AND error_code IS NOT NULL
      GROUP BY error_code ORDER BY count(*) DESC, error_code ASC LIMIT 1`).pluck(),
    liveJobOutsideModes: p(`SELECT 1 FROM jobs WHERE status IN ('queued', 'running') AND instr(?, ',' || mode || ',') = 0 LIMIT 1`).pluck(),
    stats: p(`SELECT count(*) AS jobs, coalesce(sum(queued), 0) AS depth FROM jobs WHERE status IN ('queued', 'running')`),

    insertEntry: p(`INSERT INTO frontier (job_seq, url, host, depth) VALUES (?, ?, ?, ?) ON CONFLICT (job_seq, url) DO NOTHING`),
    expiredLeases: p('SELECT id, job_seq, host FROM frontier WHERE state = 1 AND lease_until <= ?'),
    workerLeases: p('SELECT id, job_seq, host FROM frontier WHERE state = 1 AND lease_until IS NOT NULL AND worker_id = ?'),
    readyOfHost: p(`SELECT id, job_seq, url, depth, attempts FROM frontier
      WHERE host = ? AND state = 0 AND id > ? AND not_before <= ? ORDER BY id LIMIT ?`),
    readyOfHostInModes: p(`SELECT f.id, f.job_seq, f.url, f.depth, f.attempts FROM frontier f
      WHERE f.host = ? AND f.state = 0 AND f.id > ? AND f.not_before <= ?
        AND instr(?, ',' || (SELECT j.mode FROM jobs j WHERE j.seq = f.job_seq) || ',') > 0
      ORDER BY f.id LIMIT ?`),
    lease: p('UPDATE frontier SET state = 1, lease_token = ?, lease_until = ?, worker_id = ? WHERE id = ?'),
    requeue: p('UPDATE frontier SET state = 0, lease_token = NULL, lease_until = NULL, worker_id = NULL WHERE id = ?'),
    drop: p('UPDATE frontier SET state = 4, lease_token = NULL, lease_until = NULL, worker_id = NULL WHERE id = ?'),
    // Settling proves the lease in the same statement that ends it; no row back means a stale outcome.
    settleDone: p(`UPDATE frontier SET state = 2, lease_token = NULL, lease_until = NULL, worker_id = NULL
      WHERE id = ? AND state = 1 AND lease_token = ? RETURNING job_seq, host`),
    settleFailed: p(`UPDATE frontier SET state = 3, attempts = attempts + 1, last_error = ?, lease_token = NULL, lease_until = NULL,
      worker_id = NULL WHERE id = ? AND state = 1 AND lease_token = ? RETURNING job_seq, host`),
    settleRetry: p(`UPDATE frontier SET state = 0, attempts = attempts + 1, not_before = ?, last_error = ?, lease_token = NULL,
      lease_until = NULL, worker_id = NULL WHERE id = ? AND state = 1 AND lease_token = ? RETURNING job_seq, host`),
    extendLease: p('UPDATE frontier SET lease_until = ? WHERE id = ? AND state = 1 AND lease_token = ?'),
    hostsOfQueued: p('SELECT DISTINCT host FROM frontier WHERE job_seq = ? AND state = 0').pluck(),
    dropQueued: p('UPDATE frontier SET state = 4 WHERE job_seq = ? AND state = 0'),

    /** Hosts that may be served now, by their oldest waiting entry, each with its first due entry (NULL columns when none is due). */
    eligibleHosts: p(eligibleHostsSql('')),
    eligibleHostsInModes: p(eligibleHostsSql(`AND instr(@modes, ',' || (SELECT j.mode FROM jobs j WHERE j.seq = r.job_seq) || ',') > 0`)),
    /** Upsert: adds to in_flight and lowers head_id to the given id (NULL leaves it). */
    touchHost: p(`INSERT INTO hosts (host, in_flight, head_id) VALUES (?, ?, ?)
      ON CONFLICT (host) DO UPDATE SET in_flight = in_flight + excluded.in_flight,
        head_id = CASE WHEN excluded.head_id IS NULL THEN head_id ELSE coalesce(min(head_id, excluded.head_id), excluded.head_id) END`),
    leaseHost: p(`UPDATE hosts SET in_flight = in_flight + @n, next_fetch_at = max(next_fetch_at, @nextFetchAt),
      head_id = (SELECT min(id) FROM frontier WHERE host = @host AND state = 0) WHERE host = @host`),
    resetHostHead: p('UPDATE hosts SET head_id = (SELECT min(id) FROM frontier WHERE host = @host AND state = 0) WHERE host = @host'),
    deferHost: p(`INSERT INTO hosts (host, next_fetch_at) VALUES (?, ?)
      ON CONFLICT (host) DO UPDATE SET next_fetch_at = max(next_fetch_at, excluded.next_fetch_at)`),

    insertPage: p(`INSERT INTO pages (job_seq, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode,
      links_found, depth, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    listPages: p(`SELECT id, url, final_url, status_code, title, bytes, fetch_ms, error_code, content_type, mode, links_found, depth,
      fetched_at FROM pages WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) AND id > ? ORDER BY id LIMIT ?`),

    upsertProxy: p(`INSERT INTO proxy_health (proxy, failures, cooldown_until, last_error) VALUES (?, ?, ?, ?)
      ON CONFLICT (proxy) DO UPDATE SET failures = excluded.failures, cooldown_until = excluded.cooldown_until,
        last_error = excluded.last_error`),
    listProxies: p('SELECT proxy, failures, cooldown_until, last_error FROM proxy_health ORDER BY proxy'),
  };
}

function eligibleHostsSql(modeFilter: string): string {
  return `SELECT h.host, h.in_flight, h.head_id, f.id, f.job_seq, f.url, f.depth, f.attempts
    FROM hosts h LEFT JOIN frontier f ON f.id = (
      SELECT r.id FROM frontier r WHERE r.host = h.host AND r.state = 0 AND r.not_before <= @now ${modeFilter} ORDER BY r.id LIMIT 1)
    WHERE h.head_id IS NOT NULL AND h.head_id > @after AND h.next_fetch_at <= @now AND h.in_flight < @maxPerHost
    ORDER BY h.head_id LIMIT @limit`;
}

export type Statements = ReturnType<typeof prepareStatements>;
