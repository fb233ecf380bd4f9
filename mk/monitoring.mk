# Monitoring stack (plan §9): Docker Compose targets, a native variant from Debian's packages
# for machines without Docker, a target doctor, a test alert, the demo and the generators of the
# rule files and dashboards.
DOCKER_COMPOSE ?= docker compose
MONITOR_COMPOSE := $(DOCKER_COMPOSE) -f docker/monitoring/docker-compose.monitoring.yml
MONITOR_SECRETS_DIR := docker/monitoring/secrets
PROMETHEUS_URL ?= http://127.0.0.1:9090
ALERTMANAGER_URL ?= http://127.0.0.1:9093
TSX := node --import tsx

.PHONY: monitor-up monitor-down monitor-reload monitor-native-up monitor-native-down monitor-native-status \
  monitor-check monitor-test-alert dashboards rules monitoring-gen demo

# MONITOR_SERVICES: start only these services (default: all), e.g. without grafana and cadvisor
# where their images cannot be pulled (docs/monitoring.md, "Running the stacks with podman").
MONITOR_SERVICES ?=

# Real secret files are created from their *.example once and never overwritten (they are git-ignored).
# Permissions are the example's: Compose bind-mounts file secrets, and non-root containers (Grafana) must read them.
monitor-up:
	@for example in $(MONITOR_SECRETS_DIR)/*.example; do \
	  [ -e "$$example" ] || continue; \
	  secret="$${example%.example}"; \
	  if [ ! -e "$$secret" ]; then cp "$$example" "$$secret" && echo "created $$secret from its example: fill it in"; fi; \
	done
	$(MONITOR_COMPOSE) up -d $(MONITOR_SERVICES)

monitor-down:
	$(MONITOR_COMPOSE) down

monitor-reload:
	@echo "Reloading Prometheus config..."
	curl -fsS -X POST $(PROMETHEUS_URL)/-/reload && echo "reloaded"

monitor-native-up: system-deps
	$(TSX) scripts/monitor/native.ts up

monitor-native-down:
	$(TSX) scripts/monitor/native.ts down

monitor-native-status:
	$(TSX) scripts/monitor/native.ts status

monitor-check:
	@$(TSX) scripts/monitor/doctor.ts $(PROMETHEUS_URL)

# make monitor-test-alert [ALERTMANAGER_URL=http://127.0.0.1:9093] [TEST_ALERT_ARGS='--minutes 10 team=crawl' | --resolve]
# A synthetic OwlTestAlert through the real routing; prints the receiver it reached and how to look at it.
TEST_ALERT_ARGS ?=
monitor-test-alert:
	@ALERTMANAGER_URL=$(ALERTMANAGER_URL) $(TSX) scripts/monitor/test-alert.ts $(TEST_ALERT_ARGS)

# Generated files (committed; drift-tested): rule files from monitoring/prometheus/src, dashboards
# from monitoring/grafana/src. `make monitoring-gen` regenerates both, then checks the rules with promtool.
dashboards: install
	npm run dashboards

rules: install
	npm run rules

monitoring-gen: rules dashboards
	promtool check rules monitoring/prometheus/rules/*.yml
	promtool test rules monitoring/prometheus/rules/tests/*.test.yml

# make demo [TRIP=Worker429Spike] [DEMO_PORT=8000]: refuses a taken port (DEMO_PORT=0 takes any free one).
DEMO_PORT ?= 8000
demo:
	$(TSX) src/demo/run.ts --port $(DEMO_PORT) $(if $(TRIP),--trip $(TRIP),)
