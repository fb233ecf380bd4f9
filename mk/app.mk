# The app in containers (docker/docker-compose.yml): api, scalable workers, PostgreSQL.
#   make up            build and start (creates .env with a random database password when missing)
#   make scale N=4     run N crawl workers
#   make logs          follow the logs (SERVICE=worker for one service)
#   make down          stop and remove the containers (the database volume stays)
DOCKER_COMPOSE ?= docker compose
APP_COMPOSE := $(DOCKER_COMPOSE) --env-file .env -f docker/docker-compose.yml
APP_NETWORK := sparkling-owl-spin
N ?= 2
SERVICE ?=

.PHONY: up down logs scale app-env app-network

# .env is never overwritten; a new one gets a random URL-safe password in both places it appears.
app-env:
	@if [ ! -e .env ]; then \
	  password="$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"; \
	  sed -e "s/change-me/$$password/g" .env.example > .env && chmod 600 .env && echo "created .env from .env.example with a random POSTGRES_PASSWORD"; \
	fi
	@for example in docker/monitoring/secrets/postgres_exporter_password.example; do \
	  secret="$${example%.example}"; \
	  if [ ! -e "$$secret" ]; then cp "$$example" "$$secret" && chmod 600 "$$secret" && echo "created $$secret from its example: fill it in"; fi; \
	done

# The monitoring stack owns the shared network; create it when that stack is not running yet.
app-network:
	@docker network inspect $(APP_NETWORK) >/dev/null 2>&1 || docker network create $(APP_NETWORK) >/dev/null

up: app-env app-network
	$(APP_COMPOSE) up -d --build

down:
	$(APP_COMPOSE) down

logs:
	$(APP_COMPOSE) logs -f --tail=200 $(SERVICE)

scale: app-env app-network
	$(APP_COMPOSE) up -d --no-recreate --scale worker=$(N)
