# The web console (console/ → dist/console/, served by `owl serve` at /). A fresh clone's `make run`
# and `make test` build it; `npm run build:console` rebuilds it by hand (`-- --report` prints the
# first view's compressed sizes).
CONSOLE_SOURCES := $(shell find console -type f 2>/dev/null) scripts/build-console.ts

.PHONY: console console-typecheck

dist/console/index.html: $(NPM_STAMP) $(CONSOLE_SOURCES)
	npm run --silent build:console

console: dist/console/index.html

# The browser code has its own compiler settings (DOM types, bundler resolution).
console-typecheck: install
	npx tsc --noEmit -p console

run: console
test: console
check: console-typecheck
