-- Webhooks and their durable outbox (src/webhooks/). Times are epoch milliseconds.
-- webhooks.secret is the Standard Webhooks signing secret (`whsec_` + base64): HMAC signing needs
-- the key itself, so it is kept as it is, like the rest of the store only as safe as the data
-- folder's permissions; the API shows it once (POST /webhooks) and never again. key_id is the API
-- key that created the webhook (NULL: the local operator, OWL_AUTH=off).
CREATE TABLE webhooks (
  seq        INTEGER PRIMARY KEY,
  id         TEXT NOT NULL UNIQUE,
  url        TEXT NOT NULL,
  events     TEXT NOT NULL,
  secret     TEXT NOT NULL,
  key_id     TEXT,
  created_at INTEGER NOT NULL
);

-- One row per (webhook, event): the outbox. event_id is the Standard Webhooks `webhook-id`, the
-- same on every attempt; payload is the exact body sent every time. A sender leases a due row
-- (lease_token, lease_until) before sending, so one attempt is sent by one sender only; attempts
-- counts the attempts begun. status: pending (next_attempt_at set), delivered or failed (given up).
CREATE TABLE webhook_deliveries (
  id               INTEGER PRIMARY KEY,
  webhook_seq      INTEGER NOT NULL REFERENCES webhooks (seq) ON DELETE CASCADE,
  event_id         TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  lease_token      TEXT,
  lease_until      INTEGER,
  last_error       TEXT,
  last_status_code INTEGER,
  created_at       INTEGER NOT NULL,
  finished_at      INTEGER,
  UNIQUE (webhook_seq, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_seq, id);
-- Finished deliveries are removed after OWL_WEBHOOK_RETENTION_DAYS.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE status <> 'pending';
