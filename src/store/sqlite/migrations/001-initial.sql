-- Initial schema of the SQLite store. Times are epoch milliseconds.
-- frontier.state: 0 waiting, 1 leased (retired by migration 3), 2 done, 3 failed, 4 dropped (src/store/frontier-state.ts).
CREATE TABLE jobs (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  mode        TEXT NOT NULL,
  max_pages   INTEGER NOT NULL,
  max_depth   INTEGER NOT NULL,
  seeds       TEXT NOT NULL,
  options     TEXT NOT NULL,
  source      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  reason      TEXT,
  admitted    INTEGER NOT NULL DEFAULT 0,
  queued      INTEGER NOT NULL DEFAULT 0,
  in_flight   INTEGER NOT NULL DEFAULT 0,
  fetched     INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_status ON jobs (status, seq);

-- Politeness state per host name, shared by every job and worker.
-- in_flight counts unexpired leases (expired ones are returned before each claim);
-- head_id is the oldest queued entry of the host, NULL when none waits.
CREATE TABLE hosts (
  host          TEXT PRIMARY KEY,
  next_fetch_at INTEGER NOT NULL DEFAULT 0,
  in_flight     INTEGER NOT NULL DEFAULT 0,
  head_id       INTEGER
) WITHOUT ROWID;
CREATE INDEX hosts_head ON hosts (head_id) WHERE head_id IS NOT NULL;

CREATE TABLE frontier (
  id          INTEGER PRIMARY KEY,
  job_seq     INTEGER NOT NULL REFERENCES jobs (seq),
  url         TEXT NOT NULL,
  host        TEXT NOT NULL,
  depth       INTEGER NOT NULL,
  state       INTEGER NOT NULL DEFAULT 0,
  attempts    INTEGER NOT NULL DEFAULT 0,
  not_before  INTEGER NOT NULL DEFAULT 0,
  lease_token TEXT,
  lease_until INTEGER,
  worker_id   TEXT,
  last_error  TEXT
);
CREATE UNIQUE INDEX frontier_job_url ON frontier (job_seq, url);
CREATE INDEX frontier_ready ON frontier (host, id) WHERE state = 0;
CREATE INDEX frontier_leased ON frontier (lease_until) WHERE state = 1;

CREATE TABLE pages (
  id           INTEGER PRIMARY KEY,
  job_seq      INTEGER NOT NULL REFERENCES jobs (seq),
  url          TEXT NOT NULL,
  final_url    TEXT,
  status_code  INTEGER,
  title        TEXT,
  bytes        INTEGER NOT NULL,
  fetch_ms     INTEGER NOT NULL,
  error_code   TEXT,
  content_type TEXT,
  mode         TEXT NOT NULL,
  links_found  INTEGER NOT NULL,
  depth        INTEGER NOT NULL,
  fetched_at   INTEGER NOT NULL
);
CREATE INDEX pages_job ON pages (job_seq, id);

CREATE TABLE proxy_health (
  proxy          TEXT PRIMARY KEY,
  failures       INTEGER NOT NULL,
  cooldown_until INTEGER NOT NULL,
  last_error     TEXT
) WITHOUT ROWID;
