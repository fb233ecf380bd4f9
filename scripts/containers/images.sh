#!/usr/bin/env bash
# Builds, offline, the images the container tests run in place of the upstream ones, and writes
# their names to ENV_FILE as KEY=VALUE lines (the variables the compose files read).
#   scripts/containers/images.sh ENV_FILE
# Needs root, podman (CONTAINERS_CONF set), debootstrap, and the host's Node 20 from its `nodejs` package.
#
# - owl-debian:bookworm-*   debootstrap --variant=minbase, imported into podman (the only download
#                           besides the Debian packages below; both come from Debian's mirror)
# - owl-standins:*          + Debian's prometheus, alertmanager, node/postgres/redis/blackbox
#                           exporters, postgresql-15, redis-server (the binaries the native stack runs)
# - owl-standin-<svc>:*     one small image per service (standins/Containerfile): entrypoint and user
#                           as in the upstream image
# - owl-node:20-*           + Debian's chromium, fonts, tini and the host's nodejs package
# - owl-node-deps:*         + the checkout's node_modules without dev dependencies: the app's
#                           NODE_IMAGE (docker/Dockerfile then skips `npm ci` and apt)
# - owl-node-devdeps:*      + the checkout's node_modules with them: the console stage's BUILD_IMAGE
#
# Packages are installed by apt-get in a chroot on the host (podman mount + commit), never inside a
# container: no container needs a network to build. Every tag carries a hash of what made it, so a
# second run finds every image and builds nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
env_file="${1:?usage: images.sh ENV_FILE}"

mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
cache="${OWL_CONTAINERS_CACHE:-/var/cache/owl-containers}"
standin_packages=(prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter
  prometheus-redis-exporter prometheus-blackbox-exporter postgresql-15 redis-server wget ca-certificates)
# What the runtime stage of docker/Dockerfile installs, so that stage finds them and skips apt.
node_packages=(chromium fonts-liberation fonts-noto-color-emoji tini ca-certificates)
standin_services=(prometheus alertmanager node-exporter postgres-exporter redis-exporter blackbox-exporter postgres redis)

mkdir -p "$cache/debootstrap" "$cache/apt"
hash() { sha256sum | cut -c1-16; }
log() { printf '%s images: %s\n' "$(date +%T)" "$*" >&2; }
have() { podman image exists "$1"; }

base="localhost/owl-debian:$suite-$(printf '%s\n' minbase "$suite" "$mirror" | hash)"
if ! have "$base"; then
  log "debootstrap $suite (minbase) from $mirror"
  dir="$(mktemp -d /var/tmp/owl-rootfs.XXXXXX)"
  debootstrap --variant=minbase --cache-dir="$cache/debootstrap" "$suite" "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$dir"; exit 1; }
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
  tar -C "$dir" -c . | podman import --quiet - "$base" >/dev/null
  rm -rf "$dir"
fi

# derive TAG FROM HOOK PACKAGES...: a container of FROM, mounted; apt-get in a chroot; HOOK MOUNTPOINT; commit.
derive() {
  local tag="$1" from="$2" hook="$3"; shift 3
  local ctr mnt name="${tag##*/}"
  local apt_cache="$cache/apt/${name%%:*}" apt_log="$cache/${name%%:*}.log"
  mkdir -p "$apt_cache"
  ctr="$(podman create --quiet --network=none "$from" /bin/true)"
  mnt="$(podman mount "$ctr")"
  cp /etc/resolv.conf "$mnt/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$mnt/usr/sbin/policy-rc.d" && chmod 755 "$mnt/usr/sbin/policy-rc.d"
  # Like the slim upstream images: no manuals, docs or translations; dpkg without fsync (the
  # image is written once). Also left out: the time-zone data of Prometheus's classic UI
  # (moment-timezone, 218 MB); the API the tests use does not need it.
  cat >"$mnt/etc/dpkg/dpkg.cfg.d/owl-slim" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/javascript/moment-timezone/*
CFG
  echo force-unsafe-io >"$mnt/etc/dpkg/dpkg.cfg.d/owl-unsafe-io"
  mount -t proc proc "$mnt/proc"
  mount --bind "$apt_cache" "$mnt/var/cache/apt/archives"
  local status=0
  {
    chroot "$mnt" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive chroot "$mnt" apt-get install -y -qq --no-install-recommends "$@"
  } >"$apt_log" 2>&1 || status=$?
  umount "$mnt/var/cache/apt/archives" "$mnt/proc"
  if [ "$status" -ne 0 ]; then
    tail -20 "$apt_log" >&2; podman umount "$ctr" >/dev/null; podman rm "$ctr" >/dev/null; return "$status"
  fi
  "$hook" "$mnt"
  rm -rf "$mnt"/var/lib/apt/lists/* "$mnt"/var/cache/apt/*.bin "$mnt/usr/sbin/policy-rc.d" "$mnt/etc/dpkg/dpkg.cfg.d/owl-unsafe-io"
  : >"$mnt/etc/resolv.conf"
  podman umount "$ctr" >/dev/null
  podman commit --quiet --change 'CMD ["/bin/bash"]' "$ctr" "$tag" >/dev/null
  podman rm "$ctr" >/dev/null
}

standins_hook() {
  # The stand-in postgres entrypoint makes its own data folder; drop the cluster the package created.
  rm -rf "$1/var/lib/postgresql/15/main" "$1/etc/postgresql/15/main"
}
# The host's Node: the files of its dpkg package `nodejs` (npm and corepack included).
node_hook() {
  dpkg-query -L nodejs | while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then printf '%s\n' "${f#/}"; fi; done \
    | tar -C / --no-recursion -cf - -T - | tar -C "$1" -xf -
  # As in the upstream node images: user and group `node`, uid/gid 1000.
  chroot "$1" groupadd --gid 1000 node
  chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
}
node_version="$(dpkg-query -W -f '${Version}' nodejs 2>/dev/null || true)"
case "$node_version" in
  20.*) ;;
  *) echo "images: the host has no Node 20 from a Debian package (dpkg nodejs: '${node_version:-none}')" >&2; exit 1 ;;
esac

# A tag's hash covers the recipe (these functions' text) and its inputs.
standins="localhost/owl-standins:$({ declare -f derive standins_hook; printf '%s\n' "$base" "${standin_packages[@]}"; } | hash)"
node_image="localhost/owl-node:20-$({ declare -f derive node_hook; printf '%s\n' "$base" "${node_packages[@]}" "$node_version"; } | hash)"
pids=()
if ! have "$standins"; then
  log "Debian packages for the stand-ins: ${standin_packages[*]}"
  derive "$standins" "$base" standins_hook "${standin_packages[@]}" & pids+=($!)
fi
if ! have "$node_image"; then
  log "Node $node_version (the host's package) and ${node_packages[*]}"
  derive "$node_image" "$base" node_hook "${node_packages[@]}" & pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid"; done

standin_context=scripts/containers/standins
standin_hash="$({ cat "$standin_context"/*; printf '%s\n' "$standins"; } | hash)"
for svc in "${standin_services[@]}"; do
  tag="localhost/owl-standin-$svc:$standin_hash"
  if ! have "$tag"; then
    log "stand-in $svc"
    podman build --quiet --network=none --target "$svc" --build-arg "BASE=$standins" \
      -f "$standin_context/Containerfile" -t "$tag" "$standin_context" >/dev/null
  fi
done

# The app's NODE_IMAGE: owl-node plus the checkout's own node_modules (installed by `npm ci`),
# pruned of dev dependencies offline, with the hash of the package-lock.json they were made from:
# docker/Dockerfile's deps stage then uses them instead of running `npm ci`.
app_base="localhost/owl-node-deps:$({ printf '%s\n' "$node_image"; cat package-lock.json node_modules/.package-lock.json; node -v; } | hash)"
if ! have "$app_base"; then
  log "node_modules without dev dependencies on top of $node_image"
  ctr="$(podman create --quiet --network=none "$node_image" /bin/true)"
  mnt="$(podman mount "$ctr")"
  mkdir -p "$mnt/app"
  cp -a package.json package-lock.json node_modules "$mnt/app/"
  (cd "$mnt/app" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
  sha256sum package-lock.json >"$mnt/app/node_modules/.package-lock.sha256"
  rm "$mnt/app/package.json" "$mnt/app/package-lock.json"
  chown -R root:root "$mnt/app"
  podman umount "$ctr" >/dev/null
  podman commit --quiet "$ctr" "$app_base" >/dev/null
  podman rm "$ctr" >/dev/null
fi

# The console stage's BUILD_IMAGE: owl-node plus the checkout's node_modules as they are, dev
# dependencies included (esbuild, preact, …), with the same package-lock.json hash.
build_base="localhost/owl-node-devdeps:$({ printf '%s\n' "$node_image"; cat package-lock.json node_modules/.package-lock.json; node -v; } | hash)"
if ! have "$build_base"; then
  log "node_modules with dev dependencies on top of $node_image"
  ctr="$(podman create --quiet --network=none "$node_image" /bin/true)"
  mnt="$(podman mount "$ctr")"
  mkdir -p "$mnt/app"
  cp -a node_modules "$mnt/app/"
  sha256sum package-lock.json >"$mnt/app/node_modules/.package-lock.sha256"
  chown -R root:root "$mnt/app"
  podman umount "$ctr" >/dev/null
  podman commit --quiet "$ctr" "$build_base" >/dev/null
  podman rm "$ctr" >/dev/null
fi

svc_image() { printf 'localhost/owl-standin-%s:%s' "$1" "$standin_hash"; }
cat >"$env_file" <<EOF
PROMETHEUS_IMAGE=$(svc_image prometheus)
ALERTMANAGER_IMAGE=$(svc_image alertmanager)
NODE_EXPORTER_IMAGE=$(svc_image node-exporter)
POSTGRES_EXPORTER_IMAGE=$(svc_image postgres-exporter)
REDIS_EXPORTER_IMAGE=$(svc_image redis-exporter)
BLACKBOX_EXPORTER_IMAGE=$(svc_image blackbox-exporter)
POSTGRES_IMAGE=$(svc_image postgres)
REDIS_IMAGE=$(svc_image redis)
NODE_IMAGE=$app_base
BUILD_IMAGE=$build_base
EOF
log "images ready ($env_file)"
