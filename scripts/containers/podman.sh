#!/usr/bin/env bash
# podman for the container tests, on a Debian host without Docker or systemd.
#   podman.sh deps      install podman, runc, netavark, aardvark-dns, iptables, debootstrap, docker-compose
#   podman.sh check     can podman run a container here? (exit 0, or 1 with the reason on stderr)
#   podman.sh start     start `podman system service` on $PODMAN_SOCKET unless it answers
#   podman.sh stop      stop the service `start` started
#   podman.sh guard on|off   firewall: containers reach each other and nothing else (see below)
# CONTAINERS_CONF must name scripts/containers/containers.conf (mk/containers.mk sets it).
set -euo pipefail

socket="${PODMAN_SOCKET:-/run/owl-podman/podman.sock}"
run_dir="$(dirname "$socket")"
packages=(podman runc netavark aardvark-dns iptables debootstrap docker-compose)
binaries=(podman runc /usr/lib/podman/netavark /usr/lib/podman/aardvark-dns iptables debootstrap docker-compose)

ping_socket() { curl -fsS --max-time 2 --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; }

case "${1:-}" in
  deps)
    missing=()
    for b in "${binaries[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
    if [ "${#missing[@]}" -gt 0 ]; then
      echo "installing Debian packages for the container tests (missing: ${missing[*]})"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    fi
    ;;

  check)
    [ "$(id -u)" = 0 ] || { echo "needs root (rootful podman)" >&2; exit 1; }
    [ -n "${CONTAINERS_CONF:-}" ] || { echo "CONTAINERS_CONF is not set" >&2; exit 1; }
    for b in "${binaries[@]}"; do command -v "$b" >/dev/null 2>&1 || { echo "$b is not installed" >&2; exit 1; }; done
    if ! out="$(podman info --format '{{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}}' 2>&1)"; then
      echo "podman info failed: $out" >&2; exit 1
    fi
    [ "$out" = "netavark runc" ] || { echo "podman uses '$out', expected 'netavark runc' (after changing the network backend: podman system reset -f)" >&2; exit 1; }
    ;;

  start)
    if ping_socket; then exit 0; fi
    mkdir -p "$run_dir"
    rm -f "$socket"
    # --time=0: no idle timeout. Its pid is kept so `stop` ends this process and nothing else.
    nohup podman system service --time=0 "unix://$socket" >"$run_dir/service.log" 2>&1 &
    echo $! >"$run_dir/service.pid"
    for _ in $(seq 1 100); do ping_socket && exit 0; sleep 0.1; done
    echo "podman system service did not answer on $socket; its log:" >&2
    tail -20 "$run_dir/service.log" >&2
    exit 1
    ;;

  stop)
    if [ -f "$run_dir/service.pid" ]; then
      pid="$(cat "$run_dir/service.pid")"
      if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$run_dir/service.pid" "$socket"
    fi
    ;;

  # Containers talk to containers (every podman bridge is named podman*) and to aardvark-dns on
  # their gateway, and answer the host's connections to their published ports; nothing else: no
  # route to the host's other services or beyond. Chains OWL-CONTAINERS-IN and -FWD hold the rules.
  guard)
    case "${2:-}" in
      on)
        for hook in INPUT FORWARD; do
          if [ "$hook" = INPUT ]; then chain=OWL-CONTAINERS-INP; else chain=OWL-CONTAINERS-FWD; fi
          iptables -N "$chain" 2>/dev/null || iptables -F "$chain"
          iptables -A "$chain" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
          if [ "$hook" = INPUT ]; then
            iptables -A "$chain" -p udp --dport 53 -j RETURN
            iptables -A "$chain" -p tcp --dport 53 -j RETURN
          else
            iptables -A "$chain" -o podman+ -j RETURN
          fi
          iptables -A "$chain" -j REJECT
          iptables -C "$hook" -i podman+ -j "$chain" 2>/dev/null || iptables -I "$hook" 1 -i podman+ -j "$chain"
        done
        ;;
      off)
        for chain in OWL-CONTAINERS-INP:INPUT OWL-CONTAINERS-FWD:FORWARD; do
          hook="${chain#*:}" chain="${chain%:*}"
          while iptables -D "$hook" -i podman+ -j "$chain" 2>/dev/null; do :; done
          iptables -F "$chain" 2>/dev/null || true
          iptables -X "$chain" 2>/dev/null || true
        done
        ;;
      *) echo "usage: podman.sh guard on|off" >&2; exit 2 ;;
    esac
    ;;

  *)
    echo "usage: podman.sh deps|check|start|stop|guard on|off" >&2
    exit 2
    ;;
esac
