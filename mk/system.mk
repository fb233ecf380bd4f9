# Debian packages and local services the tests use. Idempotent: quick when all is present.
APT_PACKAGES := prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter \
  prometheus-redis-exporter prometheus-blackbox-exporter chromium docker-compose shellcheck yamllint \
  postgresql redis-server
SYSTEM_BINARIES := prometheus promtool prometheus-alertmanager amtool prometheus-node-exporter \
  prometheus-postgres-exporter prometheus-redis-exporter prometheus-blackbox-exporter chromium \
  docker-compose shellcheck yamllint psql redis-cli

.PHONY: system-deps browser-deps services

system-deps:
	@missing=""; for b in $(SYSTEM_BINARIES); do command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages (missing:$$missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi

# Browser mode needs Debian's Chromium (never a downloaded browser); `make run` installs it when missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

services:
	@sh scripts/start-services.sh
