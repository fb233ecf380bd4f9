import type Database from 'better-sqlite3';

/** Every statement the SQLite store runs, prepared once per connection (after migrations). */
export function prepareStatements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  /** Counters and facts of a job, without its seed list (hot paths read and rewrite this row). */
  const COUNTED = `seq, id, status, max_pages, max_depth, reason, started_at, finished_at, admitted, queued, in_flight, fetched, failed`;
  const JOB_COLUMNS = `seq, id, status, mode, max_pages, max_depth, (SELECT seeds FROM job_seeds WHERE job_seq = seq) AS seeds, options,
    source, created_at, started_at, finished_at, reason, admitted, queued, in_flight, fetched, failed`;
  return {
    insertJob: p(`INSERT INTO jobs (id, status, mode, max_pages, max_depth, options, source, created_at)
      VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)`),
    insertSeeds: p('INSERT INTO job_seeds (job_seq, seeds) VALUES (?, ?)'),
    countedJob: p(`SELECT ${COUNTED} FROM jobs WHERE seq = ?`),
    jobById: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`),
    jobBySeq: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq = ?`),
    jobInfo: p('SELECT id, options, mode, status FROM jobs WHERE seq = ?'),
    listJobs: p(`SELECT ${JOB_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT ?`),
    listJobsAfter: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq < (SELECT seq FROM jobs WHERE id = ?) ORDER BY seq DESC LIMIT ?`),
    listJobsByStatus: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY seq DESC LIMIT ?`),
    listJobsByStatusAfter: p(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? AND seq < (SELECT seq FROM jobs WHERE id = ?)
      ORDER BY seq DESC LIMIT ?`),
    writeJobCounts: p(`UPDATE jobs SET admitted = ?, queued = ?, in_flight = ?, fetched = ?, failed = ?, status = ?, reason = ?,
      started_at = ?, finished_at = ? WHERE seq = ?`),
    addJobCounts: p('UPDATE jobs SET admitted = admitted + ?, queued = queued + ? WHERE seq = ?'),
    endJob: p('UPDATE jobs SET status = ?, reason = ?, finished_at = ?, queued = 0 WHERE seq = ?'),
    failureReason: p(`SELECT error_code FROM pages WHERE job_seq = ? AND error_code IS NOT NULL
      GROUP BY error_code ORDER BY count(*) DESC, error_code ASC LIMIT 1`).pluck(),
    stats: p(`SELECT count(*) AS jobs, coalesce(sum(queued), 0) AS depth FROM jobs WHERE status IN ('queued', 'running')`),

    insertEntry: p(`INSERT INTO frontier (job_seq, url, host, depth) VALUES (?, ?, ?, ?) ON CONFLICT (job_seq, url) DO NOTHING`),
    /** Waiting entries of live jobs in (host, id) order: what the in-memory frontier starts from. */
    allWaiting: p(`SELECT f.id, f.job_seq AS jobSeq, f.url, f.host, f.depth, f.attempts, f.not_before AS notBefore FROM frontier f
      WHERE f.state = 0 AND (SELECT j.status FROM jobs j WHERE j.seq = f.job_seq) IN ('queued', 'running') ORDER BY f.host, f.id`),
    /** The next waiting entries of a host after a given id (a spilled host's next window: none of them was read before). */
    waitingAfter: p(`SELECT id, job_seq AS jobSeq, url, host, depth, attempts, not_before AS notBefore FROM frontier
      WHERE host = ? AND id > ? AND state = 0 ORDER BY id LIMIT ?`),
    /** No lease outlives its process: at start, what was in flight waits again (live jobs) or is forgotten. */
    unleaseLiveJobs: p(`UPDATE jobs SET queued = queued + in_flight, in_flight = 0 WHERE in_flight <> 0 AND status IN ('queued', 'running')`),
    unleaseEndedJobs: p('UPDATE jobs SET in_flight = 0 WHERE in_flight <> 0'),
    drop: p('UPDATE frontier SET state = 4 WHERE id = ?'),
    markDone: p('UPDATE frontier SET state = 2 WHERE id = ?'),
    markFailed: p('UPDATE frontier SET state = 3, attempts = attempts + 1, last_error = ? WHERE id = ?'),
    markRetry: p('UPDATE frontier SET attempts = attempts + 1, not_before = ?, last_error = ? WHERE id = ?'),
    hostsOfQueued: p('SELECT DISTINCT host FROM frontier WHERE job_seq = ? AND state = 0').pluck(),
    dropQueued: p('UPDATE frontier SET state = 4 WHERE job_seq = ? AND state = 0'),

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

export type Statements = ReturnType<typeof prepareStatements>;
