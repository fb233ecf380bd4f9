#!/bin/sh
# Sets the password of the metrics role from a secret file (never from git or the command line).
# Runs from /docker-entrypoint-initdb.d after 00-metrics-user.sql; the postgres service must
# mount the secret `postgres_exporter_password` (docker/monitoring/secrets/) at
# /run/secrets/postgres_exporter_password. By hand:
#   METRICS_PASSWORD_FILE=docker/monitoring/secrets/postgres_exporter_password \
#     PGHOST=127.0.0.1 sh monitoring/postgres/01-metrics-user.sh
# Settings (environment): METRICS_ROLE (default owl_metrics), METRICS_PASSWORD_FILE
# (default /run/secrets/postgres_exporter_password), POSTGRES_USER / POSTGRES_DB (default
# postgres), plus libpq's PG* variables.
set -eu

role="${METRICS_ROLE:-owl_metrics}"
password_file="${METRICS_PASSWORD_FILE:-/run/secrets/postgres_exporter_password}"

if [ ! -r "$password_file" ]; then
  echo "01-metrics-user.sh: no password file at $password_file; $role keeps no password" >&2
  exit 0
fi
# First line only, without the trailing newline editors add.
password="$(head -n 1 "$password_file" | tr -d '\r\n')"
if [ -z "$password" ]; then
  echo "01-metrics-user.sh: $password_file is empty" >&2
  exit 1
fi

# The password reaches psql as a variable and is quoted by psql (:'pw'), not by the shell.
printf '%s\n' "ALTER ROLE :\"role\" PASSWORD :'pw';" |
  psql -v ON_ERROR_STOP=1 -q -v role="$role" -v pw="$password" \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}"
echo "01-metrics-user.sh: password of $role set from $password_file"
