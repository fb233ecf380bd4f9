#!/bin/sh
# Static checks of the monitoring configuration with the tools that run it (part of `make check`).
set -eu
cd "$(dirname "$0")/.."
# The rule files are generated from monitoring/prometheus/src: stale ones fail here first.
node --import tsx monitoring/prometheus/src/build.ts --check
promtool check config monitoring/prometheus/prometheus.yml >/dev/null
promtool check rules monitoring/prometheus/rules/*.yml >/dev/null
promtool test rules monitoring/prometheus/rules/tests/*.test.yml >/dev/null
amtool check-config monitoring/alertmanager/alertmanager.yml >/dev/null
# shellcheck disable=SC2046
yamllint --strict $(git ls-files '*.yml' '*.yaml') .yamllint
echo "monitoring config: generated rules current; promtool (config, rules, rule tests), amtool and yamllint passed"
