# The app in containers (docker/docker-compose.yml): api, scalable workers, PostgreSQL.
#   make up            build and start (creates .env with a random database password when missing)
#   make scale N=4     run N crawl workers
#   make logs          follow the logs (SERVICE=worker for one service)
#   make down          stop and remove the containers (the database volume stays)
DOCKER_COMPOSE ?= docker compose
# The engine's own CLI, for the shared network (`podman` works too: docs/monitoring.md).
DOCKER ?= docker
APP_COMPOSE := $(DOCKER_COMPOSE) --env-file .env -f docker/docker-compose.yml
APP_NETWORK := sparkling-owl-spin
N ?= 2
SERVICE ?=

.PHONY: up down logs scale app-env app-network

# .env is never overwritten; a new one gets a random URL-safe password in both places it appears.
# The secret keeps its example's permissions, as in monitor-up: compose bind-mounts file secrets,
# and the non-root users of postgres (init scripts) and postgres-exporter must read it.
app-env:
	@if [ ! -e .env ]; then \
	  password="$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"; \
	  sed -e "s/change-me/$$password/g" .env.example > .env && chmod 600 .env && echo "created .env from .env.example with a random POSTGRES_PASSWORD"; \
	fi
	@for example in docker/monitoring/secrets/postgres_exporter_password.example; do \
	  secret="$${example%.example}"; \
	  if [ ! -e "$$secret" ]; then cp "$$example" "$$secret" && echo "created $$secret from its example: fill it in"; fi; \
	done
	@# The API's first admin key (OWL_BOOTSTRAP_KEY_FILE): owl_ and 32 random bytes in base64url. Readable
	@# by the container's non-root user, like the other file secrets; git-ignored.
	@if [ ! -e docker/secrets/owl_bootstrap_key ]; then \
	  mkdir -p docker/secrets && \
	  printf 'owl_%s\n' "$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" > docker/secrets/owl_bootstrap_key && \
	  echo "created docker/secrets/owl_bootstrap_key: the API's admin key (Authorization: Bearer \$$(cat docker/secrets/owl_bootstrap_key))"; \
	fi

# The monitoring stack owns the shared network; create it when that stack is not running yet.
app-network:
	@$(DOCKER) network inspect $(APP_NETWORK) >/dev/null 2>&1 || $(DOCKER) network create $(APP_NETWORK) >/dev/null

up: app-env app-network
	$(APP_COMPOSE) up -d --build

down:
	$(APP_COMPOSE) down

logs:
	$(APP_COMPOSE) logs -f --tail=200 $(SERVICE)

scale: app-env app-network
	$(APP_COMPOSE) up -d --no-recreate --scale worker=$(N)
