#!/bin/sh
# Runs the test suite with node's own runner; its closing summary (pass/fail counts) is the last output.
# Usage: scripts/run-tests.sh [test files or folders...]  (default: every test/**/*.test.ts)
set -eu
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then set -- test; fi
files=$(find "$@" -name '*.test.ts' -type f | sort)
if [ -z "$files" ]; then echo "no test files under: $*" >&2; exit 1; fi
# shellcheck disable=SC2086
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-reporter=spec $files
