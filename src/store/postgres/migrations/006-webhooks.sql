-- Webhooks and their durable outbox (src/webhooks/). Times are epoch milliseconds (bigint).
-- webhooks.secret is the Standard Webhooks signing secret (`whsec_` + base64): HMAC signing needs
-- the key itself, so it is kept as it is, protected by the database's access control like the
-- rest of the store; the API shows it once (POST /webhooks) and never again. key_id is the API key
-- that created the webhook (NULL: the local operator, OWL_AUTH=off).
CREATE TABLE webhooks (
  seq        bigserial PRIMARY KEY,
  id         uuid NOT NULL UNIQUE,
  url        text NOT NULL,
  events     text[] NOT NULL,
  secret     text NOT NULL,
  key_id     text,
  created_at bigint NOT NULL
);

-- One row per (webhook, event): the outbox. event_id is the Standard Webhooks `webhook-id`, the
-- same on every attempt; payload is the exact body sent every time. Senders in any process lease
-- due rows with FOR UPDATE SKIP LOCKED (lease_token, lease_until), so one attempt is sent by one
-- sender only; attempts counts the attempts begun. status: pending (next_attempt_at set),
-- delivered or failed (given up).
CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  webhook_seq      bigint NOT NULL REFERENCES webhooks (seq) ON DELETE CASCADE,
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  payload          text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  bigint,
  lease_token      text,
  lease_until      bigint,
  last_error       text,
  last_status_code integer,
  created_at       bigint NOT NULL,
  finished_at      bigint,
  UNIQUE (webhook_seq, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_seq, id);
-- Finished deliveries are removed after OWL_WEBHOOK_RETENTION_DAYS.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE status <> 'pending';
