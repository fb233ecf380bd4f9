# sparkling-owl-spin — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
NPM_STAMP := node_modules/.install-stamp

.PHONY: install install-dev run run-api test typecheck bench

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NPM_STAMP)
install-dev: install system-deps

run: install browser-deps
	node bin/owl.js serve

run-api: run

typecheck: install
	npx tsc --noEmit -p .

test: install system-deps services
	sh scripts/run-tests.sh

bench: install system-deps
	npm run bench

-include mk/*.mk
