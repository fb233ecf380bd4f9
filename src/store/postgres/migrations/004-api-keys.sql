-- API keys, the audit trail, the key that owns each job and the keys' request buckets (src/auth/).
-- api_keys.hash is the SHA-256 of the whole key (hex): the key itself is never stored, only a short
-- prefix in clear so that an operator can tell keys apart.
-- rate (requests/s), max_running_jobs and max_pages_per_day are NULL when unlimited.
CREATE TABLE api_keys (
  id                uuid PRIMARY KEY,
  name              text NOT NULL,
  prefix            text NOT NULL,
  hash              text NOT NULL UNIQUE,
  scopes            text[] NOT NULL,
  rate              double precision,
  max_running_jobs  integer,
  max_pages_per_day integer,
  created_at        bigint NOT NULL,
  last_used_at      bigint,
  expires_at        bigint,
  revoked_at        bigint
);

-- Every write through the API or `owl keys`: who (key id, NULL for the local operator), what
-- (action, target) and from where (client address). Removed after OWL_AUDIT_RETENTION_DAYS.
CREATE TABLE audit_log (
  id      bigserial PRIMARY KEY,
  at      bigint NOT NULL,
  key_id  uuid,
  action  text NOT NULL,
  target  text,
  address text
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The key that created the job (NULL: created with OWL_AUTH=off or by `owl crawl`). Limits count a
-- key's unfinished jobs and the pages its jobs fetched today through this index.
ALTER TABLE jobs ADD COLUMN key_id uuid;
CREATE INDEX jobs_key ON jobs (key_id, seq) WHERE key_id IS NOT NULL;

-- One token bucket per rate-limited key, shared by every API process: a request takes a token in
-- one UPSERT (src/store/postgres/keys.ts). allowed is whether the last take got one.
CREATE TABLE key_buckets (
  key_id     uuid PRIMARY KEY,
  tokens     double precision NOT NULL,
  updated_at bigint NOT NULL,
  allowed    boolean NOT NULL
);
