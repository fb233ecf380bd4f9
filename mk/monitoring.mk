# Monitoring stack (plan §9): Docker Compose targets, a native variant from Debian's packages
# for machines without Docker, a target doctor, the demo and the dashboard generator.
DOCKER_COMPOSE ?= docker compose
MONITOR_COMPOSE := $(DOCKER_COMPOSE) -f docker/monitoring/docker-compose.monitoring.yml
MONITOR_SECRETS_DIR := docker/monitoring/secrets
PROMETHEUS_URL ?= http://127.0.0.1:9090
TSX := node --import tsx

.PHONY: monitor-up monitor-down monitor-reload monitor-native-up monitor-native-down monitor-native-status \
  monitor-check dashboards demo

# Real secret files are created from their *.example once and never overwritten (they are git-ignored).
# Permissions are the example's: Compose bind-mounts file secrets, and non-root containers (Grafana) must read them.
monitor-up:
	@for example in $(MONITOR_SECRETS_DIR)/*.example; do \
	  [ -e "$$example" ] || continue; \
	  secret="$${example%.example}"; \
	  if [ ! -e "$$secret" ]; then cp "$$example" "$$secret" && echo "created $$secret from its example: fill it in"; fi; \
	done
	$(MONITOR_COMPOSE) up -d

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

dashboards:
	npm run dashboards

# make demo [TRIP=Worker429Spike] [DEMO_PORT=8000]
DEMO_PORT ?= 8000
demo:
	$(TSX) src/demo/run.ts --port $(DEMO_PORT) $(if $(TRIP),--trip $(TRIP),)
