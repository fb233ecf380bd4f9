#!/bin/sh
# Starts PostgreSQL (127.0.0.1:5432, database "test") and Redis (127.0.0.1:6379) when they do not answer.
set -eu
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  for dir in /etc/postgresql/*; do version=$(basename "$dir"); done
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  i=0; until pg_isready -h 127.0.0.1 -p 5432 -q; do i=$((i + 1)); [ "$i" -gt 60 ] && { echo "PostgreSQL did not start" >&2; exit 1; }; sleep 0.5; done
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE test"
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  i=0; until redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; do i=$((i + 1)); [ "$i" -gt 60 ] && { echo "Redis did not start" >&2; exit 1; }; sleep 0.5; done
fi
