#!/usr/bin/env bash
# `make test-containers`: the compose stacks for real under podman (test/containers/stacks.e2e.ts).
# CONTAINER_TESTS=auto (default) skips with the reason printed when podman cannot run here;
# require (the default under CI) fails instead; skip does not try.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${CONTAINER_TESTS:-auto}"
started=$(date +%s)

skip() {
  if [ "$mode" = require ]; then echo "test-containers: FAILED: $1" >&2; exit 1; fi
  echo "test-containers: skipped: $1"
  exit 0
}
[ "$mode" = skip ] && { echo "test-containers: skipped (CONTAINER_TESTS=skip)"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (rootful podman, iptables, debootstrap)"

export CONTAINERS_CONF="$PWD/scripts/containers/containers.conf"
export PODMAN_SOCKET="${PODMAN_SOCKET:-/run/owl-podman/podman.sock}"
podman_sh=scripts/containers/podman.sh
bash "$podman_sh" deps || skip "apt-get could not install podman and its helpers"
reason="$(bash "$podman_sh" check 2>&1)" || skip "$reason"

state="$(dirname "$PODMAN_SOCKET")"
bash "$podman_sh" start
trap 'bash "$podman_sh" guard off; bash "$podman_sh" stop' EXIT
reason="$(bash "$podman_sh" guard on 2>&1)" || skip "iptables could not set up the firewall guard: $reason"

bash scripts/containers/images.sh "$state/images.env" || skip "the offline images could not be built (is Debian's mirror reachable?)"
set -a
# shellcheck source=/dev/null
. "$state/images.env"
set +a
reason="$(podman run --rm --network=none "${NODE_IMAGE:?}" node -e 'process.exit(0)' 2>&1)" \
  || skip "podman cannot run a container here: $reason"
echo "test-containers: images ready after $(( $(date +%s) - started )) s"

export DOCKER_HOST="unix://$PODMAN_SOCKET" DOCKER_COMPOSE=docker-compose DOCKER=podman
status=0
node --import tsx --test --test-reporter=spec --test-timeout=900000 test/containers/stacks.e2e.ts || status=$?
echo "test-containers: $(( $(date +%s) - started )) s in all"
exit "$status"
