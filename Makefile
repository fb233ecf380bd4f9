# sparkling-owl-spin — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
NPM_STAMP := node_modules/.install-stamp

.PHONY: install install-dev build run run-api test check typecheck lint bench

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NPM_STAMP)
install-dev: install system-deps

# The compiled `owl` (dist/, scripts/build.js), rebuilt when a source changed. `npm ci` builds it
# too (the `prepare` script); bin/owl.js runs the sources through tsx while dist/ is older than src/.
BUILD_SOURCES := $(shell find src console -type f 2>/dev/null) bin/early-signals.js scripts/build.js package.json tsconfig.json
dist/owl.js: $(BUILD_SOURCES) | $(NPM_STAMP)
	npm run build

build: dist/owl.js

run: install browser-deps build
	node bin/owl.js serve

run-api: run

typecheck: install
	npx tsc --noEmit -p .

lint: install
	npx biome lint --error-on-warnings

# Static checks: types (strict, no unused code), the linter, shell scripts and the monitoring
# configuration with promtool, amtool and yamllint. `make test` runs them first.
check: install system-deps typecheck lint
	shellcheck $$(git ls-files '*.sh') .ci/run
	sh scripts/check-monitoring.sh

test: install system-deps services check build test-containers
	sh scripts/run-tests.sh

bench: install system-deps build
	npm run bench

-include mk/*.mk
