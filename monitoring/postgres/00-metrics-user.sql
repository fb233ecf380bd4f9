-- The metrics role for postgres-exporter: login, member of pg_monitor, nothing else.
-- pg_monitor (PostgreSQL 10+) reads every pg_stat_* view, pg_settings and the size functions;
-- it grants no SELECT on application tables (the plan granted SELECT on all of them).
-- The password is set separately from a secret file by 01-metrics-user.sh; none is in git.
--
-- Runs from /docker-entrypoint-initdb.d in the postgres image, or by hand:
--   psql -v metrics_role=owl_metrics -f monitoring/postgres/00-metrics-user.sql
-- Idempotent: safe to run again.

\set ON_ERROR_STOP on
\if :{?metrics_role}
\else
  \set metrics_role owl_metrics
\endif

SELECT format('CREATE ROLE %I LOGIN', :'metrics_role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'metrics_role')
\gexec

GRANT pg_monitor TO :"metrics_role";
-- A monitoring role never writes, and a few connections are plenty.
ALTER ROLE :"metrics_role" SET default_transaction_read_only = on;
ALTER ROLE :"metrics_role" CONNECTION LIMIT 5;
