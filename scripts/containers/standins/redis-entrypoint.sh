#!/bin/sh
# Stand-in for the entrypoint of the upstream redis image: Debian's redis-server, run as `redis`,
# with protected mode off (upstream compiles it off: the container network is the boundary).
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
if [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data 2>/dev/null || true
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
