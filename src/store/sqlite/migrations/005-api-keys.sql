-- API keys, the audit trail and the key that owns each job (src/auth/).
-- api_keys.hash is the SHA-256 of the whole key (hex): the key itself is never stored, only a short
-- prefix in clear so that an operator can tell keys apart. scopes is a JSON array.
-- rate (requests/s), max_running_jobs and max_pages_per_day are NULL when unlimited.
CREATE TABLE api_keys (
  id                TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  prefix            TEXT NOT NULL,
  hash              TEXT NOT NULL UNIQUE,
  scopes            TEXT NOT NULL,
  rate              REAL,
  max_running_jobs  INTEGER,
  max_pages_per_day INTEGER,
  created_at        INTEGER NOT NULL,
  last_used_at      INTEGER,
  expires_at        INTEGER,
  revoked_at        INTEGER
);

-- Every write through the API or `owl keys`: who (key id, NULL for the local operator), what
-- (action, target) and from where (client address). Removed after OWL_AUDIT_RETENTION_DAYS.
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  key_id  TEXT,
  action  TEXT NOT NULL,
  target  TEXT,
  address TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The key that created the job (NULL: created with OWL_AUTH=off or by `owl crawl`). Limits count a
-- key's unfinished jobs and the pages its jobs fetched today through this index.
ALTER TABLE jobs ADD COLUMN key_id TEXT;
CREATE INDEX jobs_key ON jobs (key_id, seq) WHERE key_id IS NOT NULL;
