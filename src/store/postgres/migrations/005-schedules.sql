-- Schedules (issue 13): recurring jobs, their runs, and each schedule's baseline per URL.
-- next_run_at is the next planned time (NULL when disabled or the pattern has no future run);
-- key_id is the API key that created it (wired when API keys land). Claimers lock due rows with
-- FOR UPDATE SKIP LOCKED, so one process handles a due run.
CREATE TABLE schedules (
  id          uuid PRIMARY KEY,
  seq         bigserial UNIQUE,
  name        text,
  cron        text NOT NULL,
  timezone    text NOT NULL,
  job         json NOT NULL,
  overlap     text NOT NULL CHECK (overlap IN ('skip', 'queue')),
  revisit     text NOT NULL CHECK (revisit IN ('all', 'adaptive')),
  enabled     boolean NOT NULL,
  key_id      text,
  next_run_at bigint,
  created_at  bigint NOT NULL,
  updated_at  bigint NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled AND next_run_at IS NOT NULL;

-- One row per planned time of a schedule: the unique key makes a due run start at most once.
CREATE TABLE schedule_runs (
  id          bigserial PRIMARY KEY,
  schedule_id uuid NOT NULL,
  planned_at  bigint NOT NULL,
  claimed_at  bigint NOT NULL,
  started_at  bigint,
  finished_at bigint,
  job_id      uuid,
  outcome     text NOT NULL,
  reason      text
);
CREATE UNIQUE INDEX schedule_runs_planned ON schedule_runs (schedule_id, planned_at);
CREATE INDEX schedule_runs_open ON schedule_runs (outcome) WHERE outcome IN ('pending', 'queued', 'running');

-- What a schedule remembers of each URL: validators, hashes, the page whose content a 304 carries
-- over, the links to follow from it, and the adaptive re-visit interval.
CREATE TABLE schedule_baseline (
  schedule_id    uuid NOT NULL,
  url            text NOT NULL,
  etag           text,
  last_modified  text,
  content_hash   text,
  data_hash      text,
  page_id        bigint NOT NULL,
  links          json NOT NULL,
  interval_ms    bigint NOT NULL,
  next_visit_at  bigint NOT NULL,
  PRIMARY KEY (schedule_id, url)
);

-- Pages of a schedule's run: change (new, changed, unchanged, gone), the previous run's page it is
-- compared with, and the facts the next run needs (JSON: etag, lastModified, dataHash, links).
ALTER TABLE pages ADD COLUMN change text;
ALTER TABLE pages ADD COLUMN previous_page_id bigint;
ALTER TABLE pages ADD COLUMN revisit json;
