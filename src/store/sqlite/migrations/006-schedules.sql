-- Schedules (issue 13): recurring jobs, their runs, and each schedule's baseline per URL.
-- next_run_at is the next planned time (NULL when disabled or the pattern has no future run);
-- key_id is the API key that created it (wired when API keys land).
CREATE TABLE schedules (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  name        TEXT,
  cron        TEXT NOT NULL,
  timezone    TEXT NOT NULL,
  job         TEXT NOT NULL,
  overlap     TEXT NOT NULL CHECK (overlap IN ('skip', 'queue')),
  revisit     TEXT NOT NULL CHECK (revisit IN ('all', 'adaptive')),
  enabled     INTEGER NOT NULL,
  key_id      TEXT,
  next_run_at INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled = 1 AND next_run_at IS NOT NULL;

-- One row per planned time of a schedule: the unique key makes a due run start at most once.
CREATE TABLE schedule_runs (
  id          INTEGER PRIMARY KEY,
  schedule_id TEXT NOT NULL,
  planned_at  INTEGER NOT NULL,
  claimed_at  INTEGER NOT NULL,
  started_at  INTEGER,
  finished_at INTEGER,
  job_id      TEXT,
  outcome     TEXT NOT NULL,
  reason      TEXT
);
CREATE UNIQUE INDEX schedule_runs_planned ON schedule_runs (schedule_id, planned_at);
CREATE INDEX schedule_runs_open ON schedule_runs (outcome) WHERE outcome IN ('pending', 'queued', 'running');

-- What a schedule remembers of each URL: validators, hashes, the page whose content a 304 carries
-- over, the links to follow from it, and the adaptive re-visit interval.
CREATE TABLE schedule_baseline (
  schedule_id    TEXT NOT NULL,
  url            TEXT NOT NULL,
  etag           TEXT,
  last_modified  TEXT,
  content_hash   TEXT,
  data_hash      TEXT,
  page_id        INTEGER NOT NULL,
  links          TEXT NOT NULL,
  interval_ms    INTEGER NOT NULL,
  next_visit_at  INTEGER NOT NULL,
  PRIMARY KEY (schedule_id, url)
) WITHOUT ROWID;

-- Pages of a schedule's run: change (new, changed, unchanged, gone), the previous run's page it is
-- compared with, and the facts the next run needs (JSON: etag, lastModified, dataHash, links).
ALTER TABLE pages ADD COLUMN change TEXT;
ALTER TABLE pages ADD COLUMN previous_page_id INTEGER;
ALTER TABLE pages ADD COLUMN revisit TEXT;
