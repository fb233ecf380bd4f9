#!/bin/sh
# Runs the healthchecks of every running container every INTERVAL seconds (default 3), until
# killed, or until process WATCH_PID (optional) is gone.
#   sh scripts/containers/healthchecks.sh [INTERVAL] [WATCH_PID] &
# podman hands healthchecks to systemd timers; on a host without systemd nothing runs them, and
# compose then waits forever on `depends_on: {condition: service_healthy}`. This loop stands in
# for those timers (CONTAINERS_CONF as for the tests).
set -u
interval="${1:-3}"
watch="${2:-}"
while [ -z "$watch" ] || kill -0 "$watch" 2>/dev/null; do
  for id in $(podman ps -q --filter health=starting --filter health=healthy --filter health=unhealthy 2>/dev/null); do
    podman healthcheck run "$id" >/dev/null 2>&1 || true
  done
  sleep "$interval"
done
