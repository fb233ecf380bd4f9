-- Initial schema of the PostgreSQL store. Times are epoch milliseconds (bigint).
-- Lock order for every writer: jobs rows (by seq) → frontier rows (by id) → hosts rows (by host).
-- A claim takes hosts and frontier rows with SKIP LOCKED and never waits, so it cannot join a deadlock.

CREATE TABLE jobs (
  seq         bigserial PRIMARY KEY,
  id          uuid NOT NULL UNIQUE,
  status      text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  mode        text NOT NULL,
  max_pages   integer NOT NULL,
  max_depth   integer NOT NULL,
  seeds       text[] NOT NULL,
  options     jsonb NOT NULL,
  source      text NOT NULL,
  created_at  bigint NOT NULL,
  started_at  bigint,
  finished_at bigint,
  reason      text,
  -- Changed only under the job row's lock (settle, cancel, fail). Leased URLs are counted from the
  -- frontier (a small partial index), so a claim never touches this row; for a live job
  -- waiting = admitted - fetched - failed - leased.
  admitted    integer NOT NULL DEFAULT 0,
  fetched     integer NOT NULL DEFAULT 0,
  failed      integer NOT NULL DEFAULT 0
);
CREATE INDEX jobs_live ON jobs (seq) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_status ON jobs (status, seq);

-- Politeness per host name, shared by every job and worker. in_flight counts unexpired leases;
-- head_id is the oldest waiting entry of the host (NULL when none waits). Claimers lock a row
-- with SKIP LOCKED, so at most one worker at a time leases URLs of a host.
CREATE TABLE hosts (
  host          text PRIMARY KEY,
  next_fetch_at bigint NOT NULL DEFAULT 0,
  in_flight     integer NOT NULL DEFAULT 0,
  head_id       bigint
);
CREATE INDEX hosts_head ON hosts (head_id) WHERE head_id IS NOT NULL;

-- state: 0 waiting, 1 leased, 2 done, 3 failed, 4 dropped (job cancelled or failed by an operator).
CREATE TABLE frontier (
  id          bigserial PRIMARY KEY,
  job_seq     bigint NOT NULL REFERENCES jobs (seq),
  url         text NOT NULL,
  url_hash    bytea NOT NULL GENERATED ALWAYS AS (decode(md5(url), 'hex')) STORED,
  host        text NOT NULL,
  depth       integer NOT NULL,
  state       smallint NOT NULL DEFAULT 0,
  attempts    integer NOT NULL DEFAULT 0,
  not_before  bigint NOT NULL DEFAULT 0,
  lease_token text,
  lease_until bigint,
  worker_id   text,
  last_error  text
);
CREATE UNIQUE INDEX frontier_job_url ON frontier (job_seq, url_hash);
CREATE INDEX frontier_ready ON frontier (host, id) WHERE state = 0;
CREATE INDEX frontier_leased ON frontier (job_seq, lease_until) WHERE state = 1;

CREATE TABLE pages (
  id           bigserial PRIMARY KEY,
  job_seq      bigint NOT NULL REFERENCES jobs (seq),
  url          text NOT NULL,
  final_url    text,
  status_code  integer,
  title        text,
  bytes        bigint NOT NULL,
  fetch_ms     integer NOT NULL,
  error_code   text,
  content_type text,
  mode         text NOT NULL,
  links_found  integer NOT NULL,
  depth        integer NOT NULL,
  fetched_at   bigint NOT NULL
);
CREATE INDEX pages_job ON pages (job_seq, id);

CREATE TABLE proxy_health (
  proxy          text PRIMARY KEY,
  failures       integer NOT NULL,
  cooldown_until bigint NOT NULL,
  last_error     text
);
